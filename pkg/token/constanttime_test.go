package token_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// secretish names what holds a secret or its hash: comparing one must
// take the same time whatever the bytes, or the time an answer takes
// tells how much of a guess was right.
var secretish = regexp.MustCompile(`(?i)hash|secret|signature|digest|hmac`)

// testSupport are the directories of stand-ins for outside services and of
// test support, which no deployed function runs.
var testSupport = regexp.MustCompile(`(^|/)(internal|functest|mongotest|embeddeddb|wechatsim|[a-z0-9]+test)(/|$)`)

// The product compares secrets and their hashes only in constant time
// (hmac.Equal, subtle.ConstantTimeCompare). Timing cannot be tested
// reliably, so this reads the source: no bytes.Equal, bytes.Compare,
// strings.Compare, reflect.DeepEqual, == or != on a value named as a
// secret or a hash, and no == between two string conversions (the usual
// way to compare byte slices by accident), in any package a function
// deploys.
func TestSecretsAreComparedInConstantTime(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	checked := 0
	for _, top := range []string{"pkg", "functions"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if d.IsDir() && testSupport.MatchString(rel) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f, err := parser.ParseFile(fset, path, src, 0)
			if err != nil {
				return err
			}
			checked++
			text := func(e ast.Expr) string {
				return string(src[fset.Position(e.Pos()).Offset:fset.Position(e.End()).Offset])
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if name := calleeName(n); variableTime[name] {
						for _, arg := range n.Args {
							if secretish.MatchString(text(arg)) {
								t.Errorf("%s: %s compares a secret in variable time: %s", fset.Position(n.Pos()), name, text(n))
								break
							}
						}
					}
				case *ast.BinaryExpr:
					if n.Op != token.EQL && n.Op != token.NEQ || isConstant(n.X) || isConstant(n.Y) || isComparison(n.X) {
						return true
					}
					if secretish.MatchString(text(n.X)) || secretish.MatchString(text(n.Y)) || (isStringConversion(n.X) && isStringConversion(n.Y)) {
						t.Errorf("%s: %s compares a secret in variable time", fset.Position(n.Pos()), text(n))
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 20 {
		t.Fatalf("read only %d files: is the module root where this test thinks?", checked)
	}
}

// variableTime are the comparisons that stop at the first difference.
var variableTime = map[string]bool{"bytes.Equal": true, "bytes.Compare": true, "strings.Compare": true, "reflect.DeepEqual": true}

func calleeName(c *ast.CallExpr) string {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok {
		return ""
	}
	return pkg.Name + "." + sel.Sel.Name
}

// isConstant reports literals and nil: comparing with one (hash == nil,
// len(hash) == 0) reveals nothing of a secret.
func isConstant(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return e.Name == "nil" || e.Name == "true" || e.Name == "false"
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && id.Name == "len" {
			return true
		}
	}
	return false
}

// isComparison reports a parenthesised comparison: comparing its boolean
// with another compares no secret.
func isComparison(e ast.Expr) bool {
	p, ok := e.(*ast.ParenExpr)
	if !ok {
		return false
	}
	b, ok := p.X.(*ast.BinaryExpr)
	return ok && (b.Op == token.EQL || b.Op == token.NEQ)
}

func isStringConversion(e ast.Expr) bool {
	c, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := c.Fun.(*ast.Ident)
	return ok && id.Name == "string" && len(c.Args) == 1
}
