package runner

import (
	"fmt"
	"io"
	"strings"

	"github.com/facematch/facematch/bench/internal/eval"
	"github.com/facematch/facematch/compare"
)

// Report is the summary of a benchmark run; its JSON form is what
// bench/cmd/lfw --json prints. Rates and accuracies are fractions in [0, 1].
type Report struct {
	Pairs          int       `json:"pairs"`
	Genuine        int       `json:"genuine"`
	Impostor       int       `json:"impostor"`
	Folds          int       `json:"folds"`
	Images         int       `json:"images,omitempty"`
	Accuracy       float64   `json:"accuracy"`     // mean held-out accuracy over folds
	AccuracyStd    float64   `json:"accuracy_std"` // population std over folds
	FoldAccuracy   []float64 `json:"fold_accuracy"`
	FoldThresholds []float64 `json:"fold_thresholds"` // cosine threshold learnt on the other folds
	AUC            float64   `json:"auc"`
	TAR1e2         float64   `json:"tar_at_far_1e-2"`
	Threshold1e2   float64   `json:"threshold_at_far_1e-2"` // cosine
	TAR1e3         float64   `json:"tar_at_far_1e-3"`
	Threshold1e3   float64   `json:"threshold_at_far_1e-3"` // cosine
	// NoFace counts distinct images where no face was found; NoFacePairs the
	// pairs that contain one (scored NoFaceScore, never dropped).
	NoFace        int      `json:"no_face"`
	NoFaceImages  []string `json:"no_face_images"`
	NoFacePairs   int      `json:"no_face_pairs"`
	NoFaceGenuine int      `json:"no_face_genuine_pairs"`
	NoFaceScore   float64  `json:"no_face_score"`
	// Failed counts the images the pipeline refused (undecodable, not
	// JPEG/PNG, …); FailedImages gives each one's reason. Their pairs are
	// counted in NoFacePairs: scored NoFaceScore, never a match.
	Failed       int           `json:"failed"`
	FailedImages []FailedImage `json:"failed_images"`
	// FacesFound* repeat the k-fold accuracy on the pairs where both faces
	// were found: a diagnostic that separates detection misses from
	// alignment and model errors. The headline figures above count every pair.
	FacesFoundPairs       int                   `json:"faces_found_pairs"`
	FacesFoundAccuracy    float64               `json:"faces_found_accuracy"`
	FacesFoundAccuracyStd float64               `json:"faces_found_accuracy_std"`
	CalibrationModel      compare.Calibration   `json:"calibration_model"`
	Calibration           []eval.CalibrationRow `json:"calibration"`
	Seconds               float64               `json:"seconds,omitempty"`
	ImagesPerSecond       float64               `json:"images_per_second,omitempty"`
	Landmarks             string                `json:"landmarks,omitempty"` // "detector" or the reference file
	Scoring               string                `json:"scoring,omitempty"`   // what the per-pair "cosine" is
	Flip                  bool                  `json:"flip"`
	Pick                  string                `json:"pick,omitempty"`
	SingleFoldCaution     string                `json:"note,omitempty"`
	roc                   []eval.ROCPoint
}

// Evaluate computes the metrics of s. cal maps cosines to the calibrated
// percentage for the calibration table (compare.DefaultCalibration() in the LFW tool).
func Evaluate(s *Scores, cal compare.Calibration) (*Report, error) {
	n := len(s.Pairs)
	if n == 0 || len(s.Cosine) != n || len(s.NoFace) != n {
		return nil, fmt.Errorf("%w: %d pairs, %d scores, %d no-face flags", eval.ErrInput, n, len(s.Cosine), len(s.NoFace))
	}
	same := make([]bool, n)
	folds := make([]int, n)
	r := &Report{Pairs: n, Images: s.Images, NoFace: len(s.NoFaceImages), NoFaceImages: s.NoFaceImages,
		NoFaceScore: NoFaceScore, CalibrationModel: cal}
	if r.NoFaceImages == nil {
		r.NoFaceImages = []string{}
	}
	r.Failed, r.FailedImages = len(s.Failed), s.Failed
	if r.FailedImages == nil {
		r.FailedImages = []FailedImage{}
	}
	for i, p := range s.Pairs {
		same[i], folds[i] = p.Same, p.Fold
		if p.Same {
			r.Genuine++
		} else {
			r.Impostor++
		}
		if s.NoFace[i] {
			r.NoFacePairs++
			if p.Same {
				r.NoFaceGenuine++
			}
		}
	}
	kf, err := eval.KFold(s.Cosine, same, folds)
	if err != nil {
		return nil, err
	}
	r.Folds = len(kf.Folds)
	r.Accuracy, r.AccuracyStd, r.FoldAccuracy, r.FoldThresholds = kf.Mean, kf.Std, kf.Accuracy, kf.Thresholds
	if r.Folds == 1 {
		r.SingleFoldCaution = "single fold: the threshold was chosen on the evaluated pairs themselves (in-sample accuracy)"
	}
	var fs []float64
	var fl []bool
	var ff []int
	for i := range s.Cosine {
		if !s.NoFace[i] {
			fs, fl, ff = append(fs, s.Cosine[i]), append(fl, same[i]), append(ff, folds[i])
		}
	}
	r.FacesFoundPairs = len(fs)
	if len(fs) > 0 {
		kf, err := eval.KFold(fs, fl, ff)
		if err != nil {
			return nil, err
		}
		r.FacesFoundAccuracy, r.FacesFoundAccuracyStd = kf.Mean, kf.Std
	}
	if r.AUC, err = eval.AUC(s.Cosine, same); err != nil {
		return nil, err
	}
	if r.TAR1e2, r.Threshold1e2, err = eval.TARAtFAR(s.Cosine, same, 1e-2); err != nil {
		return nil, err
	}
	if r.TAR1e3, r.Threshold1e3, err = eval.TARAtFAR(s.Cosine, same, 1e-3); err != nil {
		return nil, err
	}
	if r.Calibration, err = eval.Calibration(s.Cosine, same, cal.Percentage, eval.CalibrationThresholds()); err != nil {
		return nil, err
	}
	if r.roc, err = eval.ROC(s.Cosine, same); err != nil {
		return nil, err
	}
	if s.Elapsed > 0 {
		r.Seconds = s.Elapsed.Seconds()
		r.ImagesPerSecond = float64(s.Images) / r.Seconds
	}
	return r, nil
}

// ROC returns the ROC points the report was computed from.
func (r *Report) ROC() []eval.ROCPoint { return r.roc }

// WriteText prints the report for a person.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "pairs            %d (%d genuine, %d impostor), %d folds", r.Pairs, r.Genuine, r.Impostor, r.Folds)
	if r.Images > 0 {
		fmt.Fprintf(&b, ", %d images", r.Images)
	}
	b.WriteString("\n")
	if r.Pick != "" {
		fmt.Fprintf(&b, "landmarks        %s (flip TTA %v, face pick %s)\n", r.Landmarks, r.Flip, r.Pick)
	} else if r.Landmarks != "" {
		fmt.Fprintf(&b, "source           %s\n", r.Landmarks)
	}
	how := "threshold chosen on the other folds"
	if r.Folds == 1 {
		how = "threshold chosen on the fold itself"
	}
	fmt.Fprintf(&b, "accuracy         %.2f%% ± %.2f (%d-fold: %s)\n", 100*r.Accuracy, 100*r.AccuracyStd, r.Folds, how)
	if r.SingleFoldCaution != "" {
		fmt.Fprintf(&b, "                 note: %s\n", r.SingleFoldCaution)
	}
	b.WriteString("per fold        ")
	for i, a := range r.FoldAccuracy {
		fmt.Fprintf(&b, " %.2f@%.3f", 100*a, r.FoldThresholds[i])
	}
	b.WriteString("  (accuracy%@cosine)\n")
	fmt.Fprintf(&b, "ROC AUC          %.5f\n", r.AUC)
	fmt.Fprintf(&b, "TAR @ FAR 1e-2   %.2f%% (cosine >= %.4f)\n", 100*r.TAR1e2, r.Threshold1e2)
	fmt.Fprintf(&b, "TAR @ FAR 1e-3   %.2f%% (cosine >= %.4f)\n", 100*r.TAR1e3, r.Threshold1e3)
	fmt.Fprintf(&b, "no face          %d images, in %d pairs with a no-face or failed image (%d genuine), scored cosine %g = never a match\n",
		r.NoFace, r.NoFacePairs, r.NoFaceGenuine, r.NoFaceScore)
	for _, im := range r.NoFaceImages {
		fmt.Fprintf(&b, "                 %s\n", im)
	}
	if r.Failed > 0 {
		fmt.Fprintf(&b, "failed images    %d (refused by the pipeline; their pairs are counted above, never a match)\n", r.Failed)
		for _, f := range r.FailedImages {
			fmt.Fprintf(&b, "                 %s: %s\n", f.Path, f.Reason)
		}
	}
	if r.NoFacePairs > 0 && r.FacesFoundPairs > 0 {
		fmt.Fprintf(&b, "faces found      %d pairs: accuracy %.2f%% ± %.2f (diagnostic: detection misses left out)\n",
			r.FacesFoundPairs, 100*r.FacesFoundAccuracy, 100*r.FacesFoundAccuracyStd)
	}
	if r.Scoring != "" {
		fmt.Fprintf(&b, "scores           %s\n", r.Scoring)
	}
	fmt.Fprintf(&b, "calibration      percentage = 100/(1+exp(-(%.6g*cos %+.6g)))\n", r.CalibrationModel.A, r.CalibrationModel.B)
	b.WriteString("  threshold   cosine    FAR (false accepts)        FRR (false rejects)\n")
	for _, c := range r.Calibration {
		fmt.Fprintf(&b, "  %.2f        %.4f    %7.3f%% (%4d / %4d)     %7.3f%% (%4d / %4d)\n", c.Threshold,
			r.CalibrationModel.MatchCosine(c.Threshold), 100*c.FAR, c.FalseAccepts, c.Impostor, 100*c.FRR, c.FalseRejects, c.Genuine)
	}
	if r.Seconds > 0 {
		fmt.Fprintf(&b, "time             %.1f s (%.2f images/s)\n", r.Seconds, r.ImagesPerSecond)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
