package transcode

import (
	"fmt"
	"os"
	"os/exec"
)

// LayerBinDir is where the ffmpeg Lambda layer puts its programs.
const LayerBinDir = "/opt/bin"

// FindTool locates ffmpeg or ffprobe: the environment variable envVar (FFMPEG_PATH,
// FFPROBE_PATH) when set, then the Lambda layer, then PATH.
func FindTool(name, envVar string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err != nil { //nolint:gosec // the path of a tool this process looks up, not user input
			return "", fmt.Errorf("%s=%s: %w", envVar, p, err)
		}
		return p, nil
	}
	if p := LayerBinDir + "/" + name; isExecutable(p) {
		return p, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found in %s or PATH (set %s, or apt-get install -y ffmpeg): %w", name, LayerBinDir, envVar, err)
	}
	return p, nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
