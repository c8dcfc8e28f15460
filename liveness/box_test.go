package liveness

import (
	"fmt"
	"image"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/facematch/facematch/detect"
)

func TestFromDetectorGeometry(t *testing.T) {
	got := FromDetector(image.Rect(100, 200, 300, 400))
	// centre (200+3.8, 300+19.2), size 182 x 185.2
	if want := image.Rect(113, 227, 295, 412); got != want {
		t.Errorf("FromDetector = %v, want %v", got, want)
	}
}

// TestDetectorBoxAgainstGolden runs our detector on the golden images,
// maps its box with FromDetector and checks that the crop covers nearly the
// region minivision's detector gave (intersection over union), and how far
// the ensemble score moves compared with the golden box (both through our
// decoder and crop). Set LIVENESS_BOXMAP=file to write the table.
func TestDetectorBoxAgainstGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("slow with the reference evaluator")
	}
	_, recs := loadGolden(t)
	d, err := detect.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	fmt.Fprintln(&table, "| image | IoU (2.7x crop) | score, minivision box | score, our box mapped | Δ | score, our box unmapped | Δ |")
	fmt.Fprintln(&table, "|---|---|---|---|---|---|---|")
	var sumD, sumU, sumIoU float64
	n := 0
	for _, r := range recs {
		if r.Image == "" {
			continue
		}
		img := decodeShared(t, r.Image)
		golden := image.Rect(int(r.BoxXYWH[0]), int(r.BoxXYWH[1]), int(r.BoxXYWH[0]+r.BoxXYWH[2]), int(r.BoxXYWH[1]+r.BoxXYWH[3]))
		faces, err := d.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		best, bi := 0, -1
		for i, f := range faces {
			in := f.Box.Intersect(golden)
			if a := in.Dx() * in.Dy(); a > best {
				best, bi = a, i
			}
		}
		if bi < 0 {
			t.Errorf("%s: our detector found no face on minivision's", r.Image)
			continue
		}
		ours := FromDetector(faces[bi].Box)
		rg, err := c.Check(img, golden)
		if err != nil {
			t.Fatal(err)
		}
		ro, err := c.Check(img, ours)
		if err != nil {
			t.Fatal(err)
		}
		ru, err := c.Check(img, faces[bi].Box)
		if err != nil {
			t.Fatal(err)
		}
		sumU += math.Abs(ru.Score - rg.Score)
		iou := iou(rg.Models[0].Crop, ro.Models[0].Crop)
		if iou < 0.8 {
			t.Errorf("%s: crop IoU %.2f < 0.8", r.Image, iou)
		}
		dlt := ro.Score - rg.Score
		sumD += math.Abs(dlt)
		sumIoU += iou
		n++
		fmt.Fprintf(&table, "| %s | %.3f | %.4f | %.4f | %+.4f | %.4f | %+.4f |\n", r.Image, iou, rg.Score, ro.Score, dlt, ru.Score, ru.Score-rg.Score)
	}
	fmt.Fprintf(&table, "\nmean IoU %.3f; mean |Δ score| %.4f mapped, %.4f unmapped; %d images\n", sumIoU/float64(n), sumD/float64(n), sumU/float64(n), n)
	t.Log("\n" + table.String())
	if f := os.Getenv("LIVENESS_BOXMAP"); f != "" {
		if err := os.WriteFile(f, []byte(table.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	ai := float64(in.Dx() * in.Dy())
	return ai / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ai)
}
