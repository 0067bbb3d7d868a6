package otp_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// testSupport are the directories of stand-ins for outside services and of
// test support, which no deployed function runs.
var testSupport = regexp.MustCompile(`(^|/)(internal|functest|mongotest|embeddeddb|wechatsim|[a-z0-9]+test)(/|$)`)

// Codes, nonces, session ids and refresh secrets come from crypto/rand
// (API.md §4): a code from math/rand can be predicted from a few others,
// and no test of its output would tell. So no package a function deploys
// imports math/rand.
func TestDeployedCodeDrawsRandomnessOnlyFromCryptoRand(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	checked := 0
	for _, top := range []string{"pkg", "functions"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if d.IsDir() && testSupport.MatchString(filepath.ToSlash(rel)) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			checked++
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == "math/rand" || p == "math/rand/v2" {
					t.Errorf("%s imports %s", fset.Position(imp.Pos()), p)
				}
			}
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
