//! OTTL per-span cost of the statements real configs use most (issue 12's targets): a
//! `set`, a `where` on an attribute, `replace_pattern`, `truncate_all`, and a filter-style
//! condition alone. Each iteration runs one compiled statement over a 100-span request
//! (the clone of the request is outside the measurement). Run: `cargo bench --bench ottl`.

mod common;

use common::request;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use switchyard_ottl::eval::{compile_condition, compile_statement, ErrorMode, EvalContext, StatementGroup};
use switchyard_ottl::{parse_condition, parse_statement, CheckOptions, Context};

const SPANS: usize = 100;

fn group(text: &str) -> StatementGroup {
    let stmt = parse_statement(text).expect("parses");
    let compiled = compile_statement(&stmt, &CheckOptions::new(Context::Span)).expect("compiles");
    StatementGroup {
        context: Context::Span,
        conditions: Vec::new(),
        statements: vec![compiled],
        error_mode: ErrorMode::Propagate,
    }
}

fn statements(c: &mut Criterion) {
    let req = request(SPANS);
    let mut g = c.benchmark_group("ottl_statement");
    g.throughput(Throughput::Elements(SPANS as u64));
    for (name, text) in [
        ("set", r#"set(attributes["env"], "production")"#),
        (
            "set_where_attribute",
            r#"set(attributes["matched"], true) where attributes["attr.str.0"] == "some string value 0""#,
        ),
        ("where_attribute_false", r#"set(attributes["matched"], true) where attributes["attr.str.0"] == "nope""#),
        ("replace_pattern", r#"replace_pattern(name, "/items/[0-9]+", "/items/{id}")"#),
        ("truncate_all", "truncate_all(attributes, 8)"),
    ] {
        let group = group(text);
        g.bench_function(name, |b| {
            b.iter_batched(
                || req.clone(),
                |mut r| {
                    group.run_traces(&mut r, &mut |_, _| {}).expect("runs");
                    r
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();

    let cond = parse_condition(r#"attributes["attr.int.1"] > 500 and name != "x""#).expect("parses");
    let cond = compile_condition(&cond, &CheckOptions::new(Context::Span)).expect("compiles");
    let mut g = c.benchmark_group("ottl_condition");
    g.throughput(Throughput::Elements(SPANS as u64));
    g.bench_function("attribute_compare", |b| {
        b.iter_batched(
            || req.clone(),
            |mut r| {
                let mut n = 0;
                switchyard_pdata::walk::for_each_span_mut(&mut r, |cx| {
                    if cond.eval(&EvalContext::span(cx)).unwrap_or(false) {
                        n += 1;
                    }
                });
                (r, n)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, statements);
criterion_main!(benches);
