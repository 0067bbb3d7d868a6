// Package config reads the functions' configuration (API.md §5) from the
// environment once per cold start and validates it. Every problem is an
// *Error naming the variable, so the log says exactly what to fix.
package config
