//! Evaluator unit tests (the conformance cases run in tests/conformance_eval.rs).
