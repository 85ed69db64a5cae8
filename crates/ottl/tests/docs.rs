//! `docs/ottl.md` lists every cataloged OTTL function with whether Switchyard runs it; this
//! keeps the table true. `UPDATE_OTTL_DOCS=1 cargo test -p switchyard-ottl --test docs`
//! rewrites it from the catalog and the implementation.

use switchyard_ottl::eval::is_implemented;
use switchyard_ottl::functions::{all, FunctionKind};

const BEGIN: &str = "<!-- functions:begin -->";
const END: &str = "<!-- functions:end -->";

fn table() -> String {
    let mut rows = vec!["| Function | Kind | Built |".to_string(), "|---|---|---|".to_string()];
    let mut specs: Vec<_> = all().iter().collect();
    specs.sort_by_key(|s| (s.kind == FunctionKind::Converter, s.name.to_ascii_lowercase()));
    for s in specs {
        let kind = match s.kind {
            FunctionKind::Editor => "editor",
            FunctionKind::Converter => "converter",
        };
        let built = if is_implemented(s.name) || s.name == "route" { "yes" } else { "no" };
        rows.push(format!("| `{}` | {kind} | {built} |", s.name));
    }
    rows.join("\n")
}

#[test]
fn the_function_table_matches_the_implementation() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ottl.md");
    let doc = std::fs::read_to_string(path).expect("docs/ottl.md");
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("docs/ottl.md lacks the {BEGIN} / {END} markers");
    };
    let current = doc[b + BEGIN.len()..e].trim();
    let wanted = table();
    if std::env::var_os("UPDATE_OTTL_DOCS").is_some() {
        let updated = format!("{}{BEGIN}\n{wanted}\n{}", &doc[..b], &doc[e..]);
        std::fs::write(path, updated).expect("write docs/ottl.md");
        return;
    }
    assert_eq!(
        current, wanted,
        "docs/ottl.md is out of date: run UPDATE_OTTL_DOCS=1 cargo test -p switchyard-ottl --test docs"
    );
}
