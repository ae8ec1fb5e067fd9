// pulumi-resource-kubernetes, built from the published provider module.
//
// The provider's own main package embeds schema-embed.json and terraform-mapping-embed.json,
// which its release build generates and which its module therefore lacks ("pattern
// schema-embed.json: no matching files found"). This main is the same three lines; gen.go
// writes the two files from the module's schema.json and terraform-mapping.json first, as
// the provider's own generate.go does (scripts/build-tools.py runs it: `generate` in
// tools/versions.toml).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
