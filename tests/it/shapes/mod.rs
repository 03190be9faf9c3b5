//! Golden tests of the builtin shape catalog: each SDK's file pins the exact request bytes.
