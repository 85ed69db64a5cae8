//! (placeholder: filled in by the function library work)

use super::{ConverterBuilder, EditorBuilder};

pub(super) fn editor(_name: &str) -> Option<EditorBuilder> {
    None
}

pub(super) fn converter(_name: &str) -> Option<ConverterBuilder> {
    None
}
