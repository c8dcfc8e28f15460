package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/detect"
)

// Layout of the --annotate picture.
const (
	panelMaxH = 400 // each input image is scaled to fit panelMaxW x panelMaxH
	panelMaxW = 560
	cropSide  = 224 // the 112x112 aligned crops, shown 2x
	margin    = 12
	textScale = 2 // basicfont is 7x13; drawn at 2x for legibility
)

var (
	colBackground = color.RGBA{32, 32, 32, 255}
	colMatch      = color.RGBA{40, 200, 70, 255}
	colNoMatch    = color.RGBA{230, 50, 50, 255}
	colOtherFace  = color.RGBA{240, 200, 40, 255}
	colText       = color.RGBA{240, 240, 240, 255}
	// Landmark colours: eyes, nose, mouth corners.
	colLandmarks = [5]color.RGBA{{60, 140, 255, 255}, {60, 140, 255, 255}, {230, 60, 230, 255}, {40, 220, 220, 255}, {40, 220, 220, 255}}
)

// writeAnnotation writes a PNG to path showing both images with every face
// box (the compared face thicker, green for a match and red otherwise) and
// the landmarks, the two aligned crops that were embedded, and the verdict.
func writeAnnotation(path string, res *facematch.Result) error {
	img := annotate(res)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func annotate(res *facematch.Result) *image.RGBA {
	verdictCol := colNoMatch
	verdict := "NO MATCH"
	if res.Match {
		verdictCol, verdict = colMatch, "MATCH"
	}
	// Scale each image into a panel.
	var panels [2]*image.RGBA
	for i, im := range res.Images {
		panels[i] = panel(im, verdictCol)
	}
	lines := []string{
		fmt.Sprintf("%s  %s", verdict, res.PercentageText()),
		fmt.Sprintf("threshold %s", compare.FormatPercentage(100*res.Threshold)),
		fmt.Sprintf("cosine similarity %.4f", res.Similarity),
		fmt.Sprintf("faces: image1 %d, image2 %d", len(res.Images[0].Faces), len(res.Images[1].Faces)),
	}
	text := renderText(lines, verdictCol)

	topW := margin + panels[0].Bounds().Dx() + margin + panels[1].Bounds().Dx() + margin
	topH := max(panels[0].Bounds().Dy(), panels[1].Bounds().Dy())
	botW := margin + cropSide + margin + cropSide + margin + text.Bounds().Dx() + margin
	botH := max(cropSide, text.Bounds().Dy())
	W := max(topW, botW)
	H := margin + topH + margin + botH + margin
	out := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(out, out.Bounds(), image.NewUniform(colBackground), image.Point{}, draw.Src)

	x := margin
	for _, p := range panels {
		draw.Draw(out, p.Bounds().Add(image.Pt(x, margin)), p, image.Point{}, draw.Src)
		x += p.Bounds().Dx() + margin
	}
	y := margin + topH + margin
	x = margin
	for _, im := range res.Images {
		r := image.Rect(x, y, x+cropSide, y+cropSide)
		if im.Crop != nil {
			draw.NearestNeighbor.Scale(out, r, im.Crop, im.Crop.Bounds(), draw.Src, nil)
		}
		strokeRect(out, r.Inset(-2), 2, verdictCol)
		x += cropSide + margin
	}
	draw.Draw(out, text.Bounds().Add(image.Pt(x, y)), text, image.Point{}, draw.Over)
	return out
}

// panel draws one input image scaled to fit panelMaxW x panelMaxH with its
// faces marked.
func panel(im facematch.ImageFaces, usedCol color.RGBA) *image.RGBA {
	w, h := max(im.Width, 1), max(im.Height, 1)
	s := min(float64(panelMaxW)/float64(w), float64(panelMaxH)/float64(h))
	pw, ph := max(int(float64(w)*s+0.5), 1), max(int(float64(h)*s+0.5), 1)
	p := image.NewRGBA(image.Rect(0, 0, pw, ph))
	if im.Image != nil {
		draw.ApproxBiLinear.Scale(p, p.Bounds(), im.Image, im.Image.Bounds(), draw.Src, nil)
	}
	var off image.Point
	if im.Image != nil {
		off = im.Image.Bounds().Min
	}
	// Other faces first, the compared one on top.
	order := make([]int, 0, len(im.Faces))
	for j := range im.Faces {
		if j != im.Used {
			order = append(order, j)
		}
	}
	if im.Used >= 0 && im.Used < len(im.Faces) {
		order = append(order, im.Used)
	}
	for _, j := range order {
		drawFace(p, im.Faces[j], off, s, j == im.Used, usedCol)
	}
	return p
}

func drawFace(p *image.RGBA, f detect.Face, off image.Point, s float64, used bool, usedCol color.RGBA) {
	sc := func(v float64) int { return int(v*s + 0.5) }
	b := f.Box.Sub(off)
	r := image.Rect(sc(float64(b.Min.X)), sc(float64(b.Min.Y)), sc(float64(b.Max.X)), sc(float64(b.Max.Y)))
	col, th := colOtherFace, 1
	if used {
		col, th = usedCol, 3
	}
	strokeRect(p, r, th, col)
	rad := max(2, min(r.Dx()/40, 4))
	for i, l := range f.Landmarks {
		cx, cy := sc(l.X-float64(off.X)), sc(l.Y-float64(off.Y))
		draw.Draw(p, image.Rect(cx-rad, cy-rad, cx+rad+1, cy+rad+1), image.NewUniform(colLandmarks[i]), image.Point{}, draw.Src)
	}
}

// strokeRect draws the outline of r, th pixels wide, inside r.
func strokeRect(dst *image.RGBA, r image.Rectangle, th int, c color.RGBA) {
	u := image.NewUniform(c)
	for _, e := range []image.Rectangle{
		image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+th),
		image.Rect(r.Min.X, r.Max.Y-th, r.Max.X, r.Max.Y),
		image.Rect(r.Min.X, r.Min.Y, r.Min.X+th, r.Max.Y),
		image.Rect(r.Max.X-th, r.Min.Y, r.Max.X, r.Max.Y),
	} {
		draw.Draw(dst, e.Intersect(dst.Bounds()), u, image.Point{}, draw.Src)
	}
}

// renderText draws lines with basicfont, the first in headCol, scaled by
// textScale, on a transparent background.
func renderText(lines []string, headCol color.RGBA) *image.RGBA {
	face := basicfont.Face7x13
	lineH := face.Metrics().Height.Ceil() + 4
	w := 0
	for _, l := range lines {
		w = max(w, font.MeasureString(face, l).Ceil())
	}
	small := image.NewRGBA(image.Rect(0, 0, w+2, lineH*len(lines)+2))
	for i, l := range lines {
		col := colText
		if i == 0 {
			col = headCol
		}
		d := font.Drawer{
			Dst:  small,
			Src:  image.NewUniform(col),
			Face: face,
			Dot:  fixed.P(1, (i+1)*lineH-4),
		}
		d.DrawString(l)
	}
	big := image.NewRGBA(image.Rect(0, 0, small.Bounds().Dx()*textScale, small.Bounds().Dy()*textScale))
	draw.NearestNeighbor.Scale(big, big.Bounds(), small, small.Bounds(), draw.Src, nil)
	return big
}
