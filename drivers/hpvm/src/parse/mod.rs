//! Parsers of the products' output, one file per command.
