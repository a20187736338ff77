//! # hascript-ldoms
//!
//! PRIMECLUSTER guest-domain clusters on Oracle VM Server for SPARC (LDoms) with XSCF
//! fencing: parsers of the products' output and the four objects over them.

pub mod parse;
