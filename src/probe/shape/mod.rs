//! The shape schema: how one SDK phrases one request, as data (builtin files or `[[shape]]`).
//!
//! A shape is loaded from TOML into [`ShapeSpec`] (every field optional, so `extends` can
//! inherit; `spec.rs`), then resolved into a [`Shape`] whose fields are all concrete
//! (`resolve.rs`). Rendering a shape with variables lives in `render.rs`; this module only owns
//! the schema and its resolution.

mod resolve;
mod spec;

pub use resolve::{
    resolve_all, Capture, HeaderSpec, RequestParts, Shape, ShapeError, Step, Variant,
};
pub use spec::{
    BaseJoin, BodySpec, CaptureSource, Cond, ExpectSpec, FieldSpec, Fill, Keep, QueryEncode,
    QueryParam, RepeatSpec, Runtime, ShapeSpec, StepSpec, ValueEncode, VariantSpec,
};
