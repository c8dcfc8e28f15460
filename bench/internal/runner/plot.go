package runner

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PlotROC draws the report's ROC curve (TAR against FAR, FAR on a log
// axis from one impostor pair up to 1) with the TAR@FAR 1e-3 and 1e-2
// operating points marked, and saves it to file (format from the extension:
// .png, .svg, .pdf, ...).
func (r *Report) PlotROC(file, title string) error {
	if len(r.roc) == 0 {
		return fmt.Errorf("runner: no ROC points to plot")
	}
	minFAR := 1 / float64(r.Impostor)
	floor := minFAR / 2
	var xy plotter.XYs
	minY := 1.0
	for i, p := range r.roc {
		if p.FAR == 0 && i+1 < len(r.roc) && r.roc[i+1].FAR == 0 {
			continue // on a log axis FAR 0 is one point: the best TAR reached there
		}
		x := p.FAR
		if x < floor {
			x = floor // FAR 0 is drawn at half an impostor pair
		}
		xy = append(xy, plotter.XY{X: x, Y: p.TAR})
		minY = math.Min(minY, p.TAR)
	}
	if len(xy) == 0 {
		return fmt.Errorf("runner: no ROC points to plot")
	}
	p := plot.New()
	if title == "" {
		title = "ROC"
	}
	p.Title.Text = fmt.Sprintf("%s — accuracy %.2f%% ± %.2f, AUC %.4f", title, 100*r.Accuracy, 100*r.AccuracyStd, r.AUC)
	p.X.Label.Text = "false accept rate (impostor pairs accepted)"
	p.Y.Label.Text = "true accept rate (genuine pairs accepted)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.X.Min, p.X.Max = floor, 1
	p.Y.Min = math.Max(0, math.Floor(20*minY-0.5)/20)
	p.Y.Max = 1
	p.Add(plotter.NewGrid())
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
	p.Legend.XOffs = -vg.Points(10)
	p.Legend.YOffs = vg.Points(10)
	return p.Save(7*vg.Inch, 5*vg.Inch, file)
}
