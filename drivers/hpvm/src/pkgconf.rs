//! The package configuration file as an editable document.
