// Command build packages every function for SCF:
//
//	go run ./scripts/build [-out dist] [function ...]
//
// Each function is cross-compiled for linux/amd64 with CGO_ENABLED=0,
// stripped (-s -w) and reproducible (-trimpath, no VCS stamp, zips with
// fixed times and modes), then packaged twice from serverless.yml:
//
//	dist/<function>.zip             the binary named main at the zip root,
//	                                for the console or an API upload
//	dist/<function>/main            the same binary, and beside it
//	dist/<function>/serverless.yml  the function as an instance of the scf
//	                                component, which `components deploy` run in
//	                                dist/ deploys, all functions at once
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

// Artifact is one packaged function.
type Artifact struct {
	Function   string
	Zip        string
	BinarySize int64
	ZipSize    int64
	SHA256     string
}

func main() {
	out := flag.String("out", "dist", "output folder")
	flag.Parse()
	root, err := os.Getwd()
	if err == nil {
		var arts []Artifact
		arts, err = Package(context.Background(), root, *out, flag.Args()...)
		if err == nil {
			fmt.Printf("%-20s %12s %12s  %s\n", "function", "binary", "zip", "sha256")
			for _, a := range arts {
				fmt.Printf("%-20s %12d %12d  %s\n", a.Function, a.BinarySize, a.ZipSize, a.SHA256)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

// Package builds the named functions (all when none are named) of the
// module at root into outDir: for each, <function>.zip with the binary main
// at its root, and the folder <function>/ holding main and the
// serverless.yml instance that `components deploy` reads.
func Package(ctx context.Context, root, outDir string, names ...string) ([]Artifact, error) {
	if len(names) == 0 {
		var err error
		if names, err = localscf.Functions(root); err != nil {
			return nil, err
		}
	}
	d, err := ReadDeployment(filepath.Join(root, "serverless.yml"))
	if err != nil {
		return nil, err
	}
	var arts []Artifact
	for _, name := range names {
		dir := filepath.Join(outDir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		bin := filepath.Join(dir, "main")
		if err := compile(ctx, root, name, bin); err != nil {
			return nil, err
		}
		if err := d.WriteInstance(dir, name); err != nil {
			return nil, err
		}
		a, err := zipBinary(bin, filepath.Join(outDir, name+".zip"))
		if err != nil {
			return nil, err
		}
		a.Function = name
		arts = append(arts, a)
	}
	return arts, nil
}

func compile(ctx context.Context, root, name, out string) error {
	if _, err := os.Stat(filepath.Join(root, "functions", name, "main.go")); err != nil {
		return fmt.Errorf("no function %q", name)
	}
	cmd := exec.CommandContext(ctx, "go", "build",
		"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=",
		"-o", out, "./functions/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("compile %s: %v\n%s", name, err, stderr.String())
	}
	return nil
}

// zipTime is every zip entry's time, so the same binary gives the same zip.
var zipTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// zipBinary writes a zip holding bin as an executable named main at its root.
func zipBinary(bin, zipPath string) (Artifact, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return Artifact{}, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "main", Method: zip.Deflate, Modified: zipTime}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return Artifact{}, err
	}
	if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
		return Artifact{}, err
	}
	if err := zw.Close(); err != nil {
		return Artifact{}, err
	}
	if buf.Len() == 0 {
		return Artifact{}, errors.New("empty zip")
	}
	if err := os.WriteFile(zipPath, buf.Bytes(), 0o644); err != nil {
		return Artifact{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	return Artifact{Zip: zipPath, BinarySize: int64(len(data)), ZipSize: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])}, nil
}
