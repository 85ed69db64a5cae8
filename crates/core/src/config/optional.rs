//! `Optional<T>`: the Collector's optional config blocks. Absent = off; present, even as
//! null or `{}`, = on with defaults (`protocols: {grpc:}` turns gRPC on).

use serde::{Deserialize, Deserializer};

/// An optional block: `None` when the key is absent, `Some(T)` (defaults filled) otherwise.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Optional<T>(pub Option<T>);

impl<T> Optional<T> {
    /// The block, if present.
    pub fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Optional<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Optional(Some(Option::<T>::deserialize(d)?.unwrap_or_default())))
    }
}
