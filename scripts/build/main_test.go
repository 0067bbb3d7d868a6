package main

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestPackageMakesADeployableZip builds one function the way a deployment
// does and checks what SCF needs: a linux/amd64 ELF executable named main
// at the zip root, and the same bytes on a second build.
func TestPackageMakesADeployableZip(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles a function")
	}
	out := t.TempDir()
	arts, err := Package(context.Background(), "../..", out, "profile")
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != 1 || arts[0].Zip != filepath.Join(out, "profile.zip") {
		t.Fatalf("artifacts %+v", arts)
	}
	zr, err := zip.OpenReader(arts[0].Zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "main" {
		t.Fatalf("zip holds %d entries, first %q; want only main", len(zr.File), zr.File[0].Name)
	}
	f := zr.File[0]
	if f.Mode().Perm()&0o111 == 0 {
		t.Fatalf("main is not executable: %v", f.Mode())
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	bin, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("main is not an ELF file: %v", err)
	}
	if bin.Machine != elf.EM_X86_64 || bin.Class != elf.ELFCLASS64 || bin.Type != elf.ET_EXEC {
		t.Fatalf("main is %v %v %v, want an x86-64 executable", bin.Machine, bin.Class, bin.Type)
	}
	if bin.Section(".symtab") != nil {
		t.Error("main is not stripped")
	}
	for _, lib := range mustImports(t, bin) {
		t.Errorf("main links %s dynamically; CGO_ENABLED=0 should make it static", lib)
	}

	again, err := Package(context.Background(), "../..", t.TempDir(), "profile")
	if err != nil {
		t.Fatal(err)
	}
	if again[0].SHA256 != arts[0].SHA256 {
		t.Fatalf("two builds differ: %s vs %s", arts[0].SHA256, again[0].SHA256)
	}
	for _, f := range []string{"main", "serverless.yml"} {
		if _, err := os.Stat(filepath.Join(out, "profile", f)); err != nil {
			t.Errorf("the deploy folder of profile lacks %s: %v", f, err)
		}
	}
	t.Logf("profile: binary %d bytes, zip %d bytes", arts[0].BinarySize, arts[0].ZipSize)
}

func mustImports(t *testing.T, f *elf.File) []string {
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	return libs
}
