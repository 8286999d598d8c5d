package stamp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestARegionsVariablesDoNotDependOnTheOtherRegions(t *testing.T) {
	two := Config{Home: "us-east-1", Regions: []string{"us-east-1", "eu-west-1"}, Vars: map[string]any{"name_prefix": "acme"},
		RegionVars: map[string]map[string]any{"eu-west-1": {"cidr_block": "10.1.0.0/16"}}}
	three := two
	three.Regions = append([]string{"ap-southeast-1"}, two.Regions...)
	home := json.RawMessage(`{"identity":{}}`)

	assert.Equal(t, two.regionVars("eu-west-1", home), three.regionVars("eu-west-1", home), "adding a region changes no other region's variables")
	assert.Equal(t, two.regionVars("us-east-1", nil), three.regionVars("us-east-1", nil))

	vars := three.regionVars("eu-west-1", home)
	assert.Equal(t, map[string]any{"name_prefix": "acme", "cidr_block": "10.1.0.0/16", "region": "eu-west-1", "home_region": "us-east-1", "home": home}, vars)
	assert.Nil(t, three.regionVars("us-east-1", home)["home"], "the home region has no home")
	assert.Equal(t, []string{"ap-southeast-1", "eu-west-1"}, three.others())
}

func TestTheEdgeSeesEveryRegionsEndpoint(t *testing.T) {
	c := Config{Home: "us-east-1", Regions: []string{"us-east-1", "eu-west-1"}}
	out := Outputs{Regions: map[string]map[string]json.RawMessage{
		"us-east-1": {"endpoint": json.RawMessage(`{"api_url":"a"}`)},
		"eu-west-1": {"endpoint": json.RawMessage(`{"api_url":"b"}`)},
	}}
	vars, err := c.edgeVars(out)
	require.NoError(t, err)
	assert.Equal(t, map[string]json.RawMessage{"us-east-1": json.RawMessage(`{"api_url":"a"}`), "eu-west-1": json.RawMessage(`{"api_url":"b"}`)}, vars["regions"])

	delete(out.Regions["eu-west-1"], "endpoint")
	_, err = c.edgeVars(out)
	assert.ErrorContains(t, err, `region eu-west-1: its state has no output "endpoint"`)
}

func TestCheckSaysEverythingThatIsWrong(t *testing.T) {
	err := Config{Home: "mars-1", Regions: []string{"us-east-1", "us-east-1", "Europe"}, RegionConfig: "/nonexistent",
		RegionVars: map[string]map[string]any{"eu-west-1": {}}}.Check()
	require.Error(t, err)
	for _, want := range []string{
		"regions: us-east-1 is named twice",
		`regions: "Europe" is not an AWS region name`,
		`home: "mars-1" must be one of the regions`,
		"region_vars: eu-west-1 is not one of the regions",
		"/nonexistent is not a folder of Terraform configuration",
	} {
		assert.ErrorContains(t, err, want)
	}
	assert.ErrorContains(t, Config{}.Check(), "regions: name at least one region")
	assert.NoError(t, Config{Home: "us-east-1", Regions: []string{"us-east-1"}, RegionConfig: t.TempDir()}.Check())
}

func TestTheExampleStampFileReads(t *testing.T) {
	path := filepath.Join("..", "examples", "multi-region", "stamp.hcl")
	c, err := ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "us-east-1", c.Home)
	assert.Equal(t, []string{"us-east-1", "eu-west-1", "ap-southeast-1"}, c.Regions)
	assert.Equal(t, filepath.Join("..", "examples", "multi-region", "region"), c.RegionConfig)
	assert.Equal(t, filepath.Join("..", "examples", "multi-region", "edge"), c.EdgeConfig)
	assert.Equal(t, "acme-media", c.Vars["name_prefix"])
	assert.Equal(t, []any{}, c.Vars["allowed_countries"])
	assert.Equal(t, map[string]any{"cidr_block": "10.1.0.0/16"}, c.RegionVars["eu-west-1"])
	require.NoError(t, c.Check())
}

func TestABrokenStampFileSaysWhere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stamp.hcl")
	require.NoError(t, os.WriteFile(path, []byte("home = \"us-east-1\"\nregions = us-east-1\nregion_config = \"region\"\n"), 0o600))
	_, err := ReadFile(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stamp.hcl:2")
}
