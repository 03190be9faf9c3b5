//! Probes: shapes (how an SDK phrases a request), rendering, sending, and judging the answer.
//! Knows no SQL and no scheduling.

pub mod assert;
pub mod body;
mod browser;
pub mod capture;
pub mod catalog;
pub mod confirm;
pub mod cors;
pub mod json_text;
pub mod json_walk;
pub mod render;
pub mod request;
pub mod runner;
pub mod sequence;
pub mod shape;
pub mod url;
pub mod vars;

pub use catalog::Catalog;
pub use render::{RenderedRequest, Vars};
pub use shape::Shape;
