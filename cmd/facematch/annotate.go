package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/facematch/facematch"
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

// checkAnnotatePath refuses an --annotate file name whose extension names
// a format we do not write (".png", ".jpg" and ".jpeg" are written as such),
// before any work is done.
func checkAnnotatePath(path string) error {
	if path == "" {
		return nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".jpg", ".jpeg":
		return nil
	}
	return fmt.Errorf("%q: the file name must end in .png (or .jpg/.jpeg), the format written", path)
}

// writeImage encodes img in the format path's extension names.
func writeImage(path string, img image.Image) error {
	if err := checkAnnotatePath(path); err != nil {
		return err
	}
	var buf bytes.Buffer
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jpg", ".jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92})
	default:
		err = png.Encode(&buf, img)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// writeAnnotation writes a picture to path showing both images with every
// face box (the compared face thicker, green for a match and red
// otherwise) and the landmarks, the two aligned crops that were embedded,
// the verdict and a legend.
func writeAnnotation(path string, res *facematch.Result) error {
	return writeImage(path, annotate(res))
}

func annotate(res *facematch.Result) *image.RGBA {
	verdictCol := colNoMatch
	verdict := "NO MATCH"
	if res.Match {
		verdictCol, verdict = colMatch, "MATCH"
	}
	var panels [2]*image.RGBA
	for i, im := range res.Images {
		panels[i] = labelled(panel(im, verdictCol), fmt.Sprintf("image%d (%s): %d face(s)", i+1, imageRole[i], len(im.Faces)))
	}
	lines := []textLine{
		{fmt.Sprintf("%s  %s", verdict, res.PercentageText()), verdictCol},
		{fmt.Sprintf("threshold %s", facematch.FormatPercentage(100*res.Threshold)), colText},
		{fmt.Sprintf("similarity %.4f", res.Similarity), colText},
	}
	if res.MultipleFaces {
		lines = append(lines, textLine{"WARNING: another person in image2", colOtherFace})
	}
	lines = append(lines, legend(verdictCol, "compared face")...)
	return compose(panels[:], [][2]*image.RGBA{{res.Images[0].Crop, res.Images[1].Crop}}, lines, verdictCol)
}

// writeFailedAnnotation draws both images of a comparison that failed
// (no face, a competing face in strict mode, ...): each with the faces
// found, or the reason it could not be read, and the error.
func writeFailedAnnotation(path string, m *facematch.Matcher, srcs [2]facematch.Source, cause error) error {
	var panels [2]*image.RGBA
	for i, src := range srcs {
		label := fmt.Sprintf("image%d (%s)", i+1, imageRole[i])
		img, faces, err := m.Detect(context.Background(), src)
		if err != nil {
			panels[i] = labelled(messagePanel("could not be read: "+err.Error()), label)
			continue
		}
		b := img.Bounds()
		im := facematch.ImageFaces{Width: b.Dx(), Height: b.Dy(), Faces: faces, Used: -1, Image: img}
		panels[i] = labelled(panel(im, colNoMatch), fmt.Sprintf("%s: %d face(s)", label, len(faces)))
	}
	lines := []textLine{{"NO VERDICT", colNoMatch}}
	for _, l := range wrap(cause.Error(), 48) {
		lines = append(lines, textLine{l, colText})
	}
	lines = append(lines, legend(colNoMatch, "compared face")[1:]...)
	return writeImage(path, compose(panels[:], nil, lines, colNoMatch))
}

// writeDetectAnnotation draws one image with every face found (or, when
// there is none, the image and the words "no face found") and a legend.
func writeDetectAnnotation(path, name string, img image.Image, faces []detect.Face) error {
	b := img.Bounds()
	im := facematch.ImageFaces{Width: b.Dx(), Height: b.Dy(), Faces: faces, Used: -1, Image: img}
	p := labelled(panel(im, colMatch), fmt.Sprintf("%s: %d face(s)", filepath.Base(name), len(faces)))
	var lines []textLine
	if len(faces) == 0 {
		lines = append(lines, textLine{"NO FACE FOUND", colNoMatch})
	} else {
		lines = append(lines, textLine{fmt.Sprintf("%d face(s), largest first", len(faces)), colText})
	}
	lines = append(lines, legend(colMatch, "")[1:]...)
	return writeImage(path, compose([]*image.RGBA{p}, nil, lines, colText))
}

type textLine struct {
	text string
	col  color.RGBA
}

// legend explains the marks: the compared face's box (when used is not
// ""), the other faces' boxes and the landmark dots, each line in the
// colour it explains.
func legend(usedCol color.RGBA, used string) []textLine {
	return []textLine{
		{"thick box: " + used, usedCol},
		{"thin box: face found", colOtherFace},
		{"dots: eyes", colLandmarks[0]},
		{"      nose", colLandmarks[2]},
		{"      mouth corners", colLandmarks[3]},
	}
}

// compose lays out panels side by side, below them the crop pairs (nil
// crops are left out) and the text.
func compose(panels []*image.RGBA, crops [][2]*image.RGBA, lines []textLine, headCol color.RGBA) *image.RGBA {
	text := renderLines(lines)
	topW, topH := margin, 0
	for _, p := range panels {
		topW += p.Bounds().Dx() + margin
		topH = max(topH, p.Bounds().Dy())
	}
	nCrops := 0
	for _, c := range crops {
		for _, im := range c {
			if im != nil {
				nCrops++
			}
		}
	}
	botW := margin + nCrops*(cropSide+margin) + text.Bounds().Dx() + margin
	botH := text.Bounds().Dy()
	if nCrops > 0 {
		botH = max(cropSide, botH)
	}
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
	for _, c := range crops {
		for _, im := range c {
			if im == nil {
				continue
			}
			r := image.Rect(x, y, x+cropSide, y+cropSide)
			draw.NearestNeighbor.Scale(out, r, im, im.Bounds(), draw.Src, nil)
			strokeRect(out, r.Inset(-2), 2, headCol)
			x += cropSide + margin
		}
	}
	draw.Draw(out, text.Bounds().Add(image.Pt(x, y)), text, image.Point{}, draw.Over)
	return out
}

// labelled adds a caption line above p.
func labelled(p *image.RGBA, caption string) *image.RGBA {
	t := renderLines([]textLine{{caption, colText}})
	w := max(p.Bounds().Dx(), t.Bounds().Dx())
	out := image.NewRGBA(image.Rect(0, 0, w, t.Bounds().Dy()+4+p.Bounds().Dy()))
	draw.Draw(out, out.Bounds(), image.NewUniform(colBackground), image.Point{}, draw.Src)
	draw.Draw(out, t.Bounds(), t, image.Point{}, draw.Over)
	draw.Draw(out, p.Bounds().Add(image.Pt(0, t.Bounds().Dy()+4)), p, image.Point{}, draw.Src)
	return out
}

// messagePanel is a grey panel with a wrapped message, for an image that
// could not be read.
func messagePanel(msg string) *image.RGBA {
	var lines []textLine
	for _, l := range wrap(msg, 30) {
		lines = append(lines, textLine{l, colText})
	}
	t := renderLines(lines)
	p := image.NewRGBA(image.Rect(0, 0, max(panelMaxW/2, t.Bounds().Dx()+2*margin), max(panelMaxH/2, t.Bounds().Dy()+2*margin)))
	draw.Draw(p, p.Bounds(), image.NewUniform(color.RGBA{70, 70, 70, 255}), image.Point{}, draw.Src)
	draw.Draw(p, t.Bounds().Add(image.Pt(margin, margin)), t, image.Point{}, draw.Over)
	return p
}

// wrap splits s into lines of at most n bytes at spaces (a longer word
// gets a line of its own).
func wrap(s string, n int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > n {
			out = append(out, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		out = append(out, line)
	}
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
	// A face cut by the frame has a box reaching past the image
	// (detect.Face.Box): outline the part inside, so the side on the
	// frame is drawn along the image's edge instead of vanishing.
	r := image.Rect(sc(float64(b.Min.X)), sc(float64(b.Min.Y)), sc(float64(b.Max.X)), sc(float64(b.Max.Y))).Intersect(p.Bounds())
	if r.Empty() {
		return
	}
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

// renderLines draws lines with basicfont, each in its colour, scaled by
// textScale, on a transparent background.
func renderLines(lines []textLine) *image.RGBA {
	face := basicfont.Face7x13
	lineH := face.Metrics().Height.Ceil() + 4
	w := 0
	for _, l := range lines {
		w = max(w, font.MeasureString(face, l.text).Ceil())
	}
	small := image.NewRGBA(image.Rect(0, 0, w+2, lineH*len(lines)+2))
	for i, l := range lines {
		d := font.Drawer{
			Dst:  small,
			Src:  image.NewUniform(l.col),
			Face: face,
			Dot:  fixed.P(1, (i+1)*lineH-4),
		}
		d.DrawString(l.text)
	}
	big := image.NewRGBA(image.Rect(0, 0, small.Bounds().Dx()*textScale, small.Bounds().Dy()*textScale))
	draw.NearestNeighbor.Scale(big, big.Bounds(), small, small.Bounds(), draw.Src, nil)
	return big
}
