// Package arch holds tests of the repository's architecture rules.
package arch
