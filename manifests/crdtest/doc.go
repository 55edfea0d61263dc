// Package crdtest is the MeshConfig CRD's validation as the API server runs it on a create,
// for tests: the OpenAPI schema, the list types and the CEL rules of the CRD that manifests
// embeds. It is its own package so that the CEL and apiextensions libraries stay out of the
// programs that import manifests.
package crdtest
