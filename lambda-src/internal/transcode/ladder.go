package transcode

import "math"

// DefaultHeights is the rendition ladder, best first.
var DefaultHeights = []int{1080, 720, 480, 360}

// Rung is one rendition: Label names it ("720" for 720p.mp4) and is the length of the
// picture's shorter side, as players name portrait videos too; Width and Height are the
// output's, both even as H.264 in 4:2:0 needs.
type Rung struct {
	Label  int
	Width  int
	Height int
}

// Ladder returns the rungs of heights that a displayed picture of w x h allows without
// upscaling. A picture smaller than every rung gets one rung of its own size.
func Ladder(w, h int, heights []int) []Rung {
	short, long := min(w, h), max(w, h)
	var rungs []Rung
	for _, label := range heights {
		if label <= short {
			rungs = append(rungs, rung(label, short, long, w >= h))
		}
	}
	if len(rungs) == 0 {
		rungs = append(rungs, rung(even(float64(short)), short, long, w >= h))
	}
	return rungs
}

func rung(label, short, long int, landscape bool) Rung {
	s := even(float64(label))
	l := even(float64(long) * float64(label) / float64(short))
	if landscape {
		return Rung{Label: s, Width: l, Height: s}
	}
	return Rung{Label: s, Width: s, Height: l}
}

// even rounds to the nearest even number, at least 2.
func even(x float64) int { return max(2, int(math.Round(x/2))*2) }
