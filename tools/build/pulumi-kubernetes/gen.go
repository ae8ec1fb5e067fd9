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
	"strings"
)

const module = "github.com/pulumi/pulumi-kubernetes/provider/v4"

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: go run gen.go VERSION")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		log.Fatalf("go list -m %s: %v", module, err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "cmd", "pulumi-resource-kubernetes")

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
