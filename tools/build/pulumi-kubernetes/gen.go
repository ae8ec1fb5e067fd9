//go:build ignore

// gen.go VERSION: writes schema-embed.json (the provider's schema.json with its version set)
// and terraform-mapping-embed.json (terraform-mapping.json, compacted) into this folder, from
// the provider module that go.mod pins.
package main

import (
	"encoding/json"
	"log"
	"os"
	"os/exec"
	"path/filepath"
)

const module = "github.com/pulumi/pulumi-kubernetes/provider/v4"

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: go run gen.go VERSION")
	}
	// `go mod download`, not `go list -m`: on a fresh machine the module is not in the module
	// cache yet, and `go list -m` then reports no folder.
	out, err := exec.Command("go", "mod", "download", "-json", module).Output()
	if err != nil {
		log.Fatalf("go mod download %s: %v", module, err)
	}
	var downloaded struct{ Dir string }
	if err := json.Unmarshal(out, &downloaded); err != nil || downloaded.Dir == "" {
		log.Fatalf("go mod download %s: no folder in %q", module, out)
	}
	dir := filepath.Join(downloaded.Dir, "cmd", "pulumi-resource-kubernetes")

	var schema map[string]any
	read(filepath.Join(dir, "schema.json"), &schema)
	schema["version"] = os.Args[1]
	write("schema-embed.json", schema)

	var mapping any
	read(filepath.Join(dir, "terraform-mapping.json"), &mapping)
	write("terraform-mapping-embed.json", mapping)
}

func read(path string, into any) {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
}

func write(path string, value any) {
	data, err := json.Marshal(value)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		log.Fatal(err)
	}
}
