//! Work reports generated from data: 工作总结及工作计划, 公示 notices, 村情 profiles.
//!
//! A template is Chinese text with figures in braces ([`syntax`]); it is stored as data with
//! versions and rendered against a [`FigureSource`] into a `xiangzhi_document::Document`
//! ([`render`]), which the document crate writes as DOCX, PDF and HTML. Every figure carries
//! its provenance link; a figure without data prints as `【缺数据：指标名】` and is listed in
//! [`Rendered::gaps`]. Finalising freezes the figures under a content hash ([`freeze`]), and a
//! later rendering lists what changed since.

pub mod builtin;
pub mod format;
pub mod freeze;
pub mod render;
pub mod service;
pub mod source;
pub mod store_source;
pub mod syntax;

pub use freeze::{FigureChange, Frozen, changes};
pub use render::{FigureValue, Gap, Rendered, plain_text, render};
pub use source::{Figure, FigureSource, MemorySource, NoticeName, SourceError};
pub use syntax::{Template, TemplateError, parse};
