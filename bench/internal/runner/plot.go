package runner

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/facematch/facematch/bench/internal/eval"
)

// rocXY turns ROC points into plot points on a log FAR axis: FAR 0 becomes
// floor, and of the points at FAR 0 only the best TAR is kept.
func rocXY(roc []eval.ROCPoint, floor float64) (xy plotter.XYs, minY float64) {
	minY = 1
	for i, p := range roc {
		if p.FAR == 0 && i+1 < len(roc) && roc[i+1].FAR == 0 {
			continue
		}
		x := math.Max(p.FAR, floor)
		xy = append(xy, plotter.XY{X: x, Y: p.TAR})
		minY = math.Min(minY, p.TAR)
	}
	return xy, minY
}

// PlotROC draws the report's ROC curve (TAR against FAR, FAR on a log axis
// from half an impostor pair up to 1; FAR 0 is drawn there) with the
// TAR@FAR 1e-3 and 1e-2 operating points marked, and saves it to file
// (format from the extension: .png, .svg, .pdf, ...). Each report in others
// (e.g. the same pairs scored with reference landmarks) is drawn as a dashed
// curve with its label from labels.
func (r *Report) PlotROC(file, title string, others []*Report, labels []string) error {
	if len(r.roc) == 0 {
		return fmt.Errorf("runner: no ROC points to plot")
	}
	floor := 0.5 / float64(r.Impostor)
	xy, minY := rocXY(r.roc, floor)
	p := plot.New()
	if title == "" {
		title = "ROC"
	}
	p.Title.Text = fmt.Sprintf("%s — accuracy %.2f%% ± %.2f, AUC %.4f", title, 100*r.Accuracy, 100*r.AccuracyStd, r.AUC)
	p.X.Label.Text = "false accept rate (impostor pairs accepted)"
	p.Y.Label.Text = "true accept rate (genuine pairs accepted)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	palette := []color.Color{color.RGBA{R: 200, G: 60, B: 30, A: 255}, color.RGBA{G: 130, B: 60, A: 255}, color.RGBA{R: 120, B: 160, A: 255}}
	for i, o := range others {
		if len(o.roc) == 0 {
			continue
		}
		oxy, omin := rocXY(o.roc, floor)
		minY = math.Min(minY, omin)
		l, err := plotter.NewLine(oxy)
		if err != nil {
			return err
		}
		l.Width = vg.Points(1.2)
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		l.Color = palette[i%len(palette)]
		p.Add(l)
		label := fmt.Sprintf("curve %d", i+2)
		if i < len(labels) {
			label = labels[i]
		}
		p.Legend.Add(fmt.Sprintf("%s: %.2f%%, TAR %.2f%% @ 1e-3", label, 100*o.Accuracy, 100*o.TAR1e3), l)
	}
	p.X.Min, p.X.Max = floor, 1
	p.Y.Min = math.Max(0, math.Floor(20*minY-0.5)/20)
	p.Y.Max = 1
	line, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	line.Width = vg.Points(1.5)
	p.Add(line)
	ops := plotter.XYs{{X: 1e-3, Y: r.TAR1e3}, {X: 1e-2, Y: r.TAR1e2}}
	sc, err := plotter.NewScatter(ops)
	if err != nil {
		return err
	}
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	sc.GlyphStyle.Radius = vg.Points(4)
	p.Add(sc)
	p.Legend.Add(fmt.Sprintf("TAR %.2f%% @ FAR 1e-3, %.2f%% @ 1e-2", 100*r.TAR1e3, 100*r.TAR1e2), sc)
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(20)
	p.Legend.YOffs = vg.Points(10)
	return p.Save(7*vg.Inch, 5*vg.Inch, file)
}
