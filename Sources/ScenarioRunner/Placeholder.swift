// The scenario interpreter (see Conformance/README.md).
