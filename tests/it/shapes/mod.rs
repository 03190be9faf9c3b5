//! Golden tests of the builtin shape catalog: each SDK's file pins the exact request bytes.

mod golden;

mod dotnet;
mod elixir;
mod fleet;
mod flutter;
mod go;
mod ios;
mod java;
mod js;
mod js_browser;
mod kotlin;
mod nodejs;
mod php;
mod python;
mod ruby;
mod rust;
