// Package detect finds faces and five facial landmarks in a photo, in pure Go.
//
// It is the front half of the facematch pipeline: decode → detect → align →
// embed → compare. For every face it returns a square box, a detector score
// and the five points the alignment step maps onto the 112x112 ArcFace
// template: left eye centre, right eye centre, nose tip, left mouth corner,
// right mouth corner (left/right as seen in the image), in the pixel
// coordinates of the image handed in (pixel centres at integers, including
// the image's Bounds().Min offset).
//
//	d, err := detect.New(nil)  // once; safe for concurrent use
//	faces, err := d.Detect(img) // largest (visible) face first; none → empty slice
//
// # How it works
//
//  1. Grey. The image is converted to BT.601 luma straight from the pixel
//     buffers of *image.YCbCr (the Y plane as is), *image.RGBA, *image.NRGBA
//     and *image.Gray, any other type through its colour model. Images whose
//     longest side exceeds Options.MaxSide (1024) are area-averaged down while
//     converting, and all results are mapped back to input coordinates.
//  2. Faces. pico's "facefinder" cascade (bundled by package weights, as
//     shipped with pigo v1.4.6) is run over square windows from
//     Options.MinFaceFraction (1/12) of the shorter side up to the whole
//     image, stepping ShiftFactor (0.1) of the window size and growing by
//     ScaleFactor (1.1). The scan (scan.go) is this package's own and gives
//     exactly the windows and scores of pigo's RunCascade (TestScanMatchesPigo
//     checks it) in about 0.4 of its time: each window size's pixel offsets
//     are computed once, and all windows of a size walk each tree together,
//     four at a time. Overlapping windows are sorted with a total order and
//     merged by pigo's ClusterDetections (IoU > 0.2); a merged face's Score
//     is the sum of its windows' scores. The best face must
//     score MinScore (5), every other face MinExtraScore (10).
//  3. Retries, each only when the stages before found nothing confident
//     (no face scoring MinExtraScore, 10), so a clear photo pays for none of
//     them:
//     a. The mirror image (pico's cascade is not left-right symmetric and
//     finds some faces only mirrored; faces must score MinExtraScore).
//     b. Faces crossing the border (pad.go), whenever nothing confident was
//     found upright. The grey image is padded by 0.4 of its shorter side on
//     every side, the padding repeating the edge pixels outward, and the
//     windows that cross the old border (centred inside the image) are
//     scanned, up to 1.8 times the shorter side. A border cluster replaces
//     an inner one it overlaps only when it scores more, and the result
//     replaces a mirror face only when it scores more. This finds the faces
//     of ID portraits, close selfies and tight crops whose forehead or chin
//     touches the border. When nothing at all is found (after the quarter
//     turns and ONet's look at the weak windows, step 5), the padded
//     image's weak border windows, mirror image and rotations are the last
//     resort.
//     c. Quarter turns: when nothing is found at all, the image turned by
//     90, 270 and 180 degrees goes through steps 2 to 3b (and ONet's check,
//     step 5) in that order; the first that gives faces wins and
//     Face.Orientation reports the turn. They run before the in-plane
//     rotations, which otherwise find a quarter-turned face at 40° with
//     poor landmarks.
//     d. In-plane rotations: the grey image rotated by each of
//     Options.Angles (±20°, ±40°) in turn (faces must score
//     MinRotatedScore, 20).
//     The first retry that finds faces replaces the weak upright ones;
//     boxes and landmarks are mapped back to the input, left and right in the
//     face's order. On fold 1 of LFW the mirror retry halved the images
//     without a face (4 → 2) and raised the end-to-end pair accuracy from
//     98.33% to 98.50%. (pigo's own rotated
//     classifier clamps columns to the row count and can index outside the
//     image for landscape pictures, so it is not used.)
//  4. Landmarks. pigo's regression-tree cascades give the points: "puploc"
//     the two pupils, "lp93" the nose tip, "lp84" the left mouth corner and,
//     mirrored, the right one. Each cascade is run from Perturbs (63)
//     jittered starting windows and the per-coordinate median is taken, as
//     pigo does — but pigo draws the jitter from the global math/rand, so its
//     points change from run to run; here the jitter comes from a fixed table
//     and the cascades are evaluated by this package, so the output is a pure
//     function of the input. If the eye line tilts more than 8°, the face is
//     resampled upright and the cascades run again there. Finally a linear
//     correction fitted on LFW (see correct.go) moves the points from pigo's
//     conventions (pupils, its nose and mouth definitions) to the standard
//     five-point layout. These are the points with
//     Options.Landmarks = LandmarksCascade. The default, LandmarksONet,
//     instead takes the points of MTCNN's ONet run once on the face box
//     (refine.go; the cascade points are then only computed for the tilt of
//     faces found rotated), polished in step 8.
//  5. ONet's word (LandmarksONet only). ONet runs on every face anyway (for
//     its landmarks), and its face probability decides every doubtful one:
//     a face scoring under MinRotatedScore (20), found on the mirror image
//     or a rotated one (in-plane or a quarter turn), or overlapping a better face (IoU above
//     IoUThreshold) is kept only with a probability of MinFaceProb (0.9) or
//     more. This removes the false faces pico's cascade scores on hair,
//     foreheads and textures (obama_partial_face.jpg gave a box on the hair
//     at 6.2, the 2012 portrait a second box on the forehead at 14.3).
//     pico's cascade also scores some turned, shadowed or partly covered
//     faces weakly. Upright windows scoring from 0.5 up to the cuts above
//     that do not overlap a face already found (IoU ≤ 0.3) are shown to
//     ONet, and kept when its face probability is at least
//     MinExtraFaceProb (0.99); when nothing was found at all, the weak
//     windows of the image as it is (upright, mirrored, rotated) get the
//     same test with MinFaceProb (0.9). On LFW this found the central face
//     of images where only a face at the side had scored, and raised the
//     10-fold pair accuracy from 98.98 % to 99.10 %.
//     When the only faces found cross the image border, the slow stages
//     (rotations, weak windows) still run on the image as it is and add
//     the faces they find outside those: a head cut by the frame beside the
//     subject must not hide the subject (LFW's Tung_Chee-hwa_0001).
//  6. Duplicates. Faces overlapping a better-scoring face by IoU 0.5 or
//     more whose landmarks agree (mean point distance under a third of the
//     eye distance) are dropped: pigo's clustering is greedy and not
//     transitive (the 2012 portrait scaled to 640 px wide gave two boxes at
//     IoU 0.90), while two overlapping boxes with different points are two
//     people, one partly behind the other.
//  7. MTCNN proposals (on unless Options.NoProposals; proposals.go). When
//     every stage above found no face, MTCNN's P-Net and R-Net
//     (internal/mtcnn) propose boxes from the cascade's minimum face
//     size, their windows hanging up to a quarter over the image's
//     edges; ONet runs on each (reading the image's edge pixels repeated
//     where the box hangs over the edge: a face cut by the frame scores
//     far higher than with a black band across it) and a proposal it gives
//     a face probability of 0.9 or more becomes a face (ONet's refined box and landmarks,
//     Face.Proposed set, Score 0); proposals on one face (IoU 0.5 or more)
//     are merged into the one ONet is surer of. It finds heads turned
//     beyond the cascade's reach and faces filling the frame. The stage
//     also runs when all faces found lie on one side of the image's
//     vertical centre line, none spanning it — the subject of a portrait or
//     selfie stands in the middle, so a face found only off to one side may
//     be a bystander beside a missed, turned subject — then looking only
//     for faces from 0.8 of the largest found face's width, apart from the
//     faces found. It runs the same way when every face found is a
//     doubtful upright window (scoring under MinRotatedScore, or with an
//     ONet face probability under MinFaceProb): on a soft portrait filling
//     the frame such a window is often a part of the face (an eye and the
//     nose), and a proposal ONet confirms around it, overlapping it
//     little, replaces it. The usual centred face, confidently found, and
//     two people flanking the centre, never pay for it.
//  8. Landmark polish (LandmarksONet). Each final face's ONet points are
//     averaged over its crop and the crop moved by 5 % of its size left,
//     right, up and down: ONet's error on one crop is partly noise of the
//     crop's placement. NME against LFW's reference points 0.0466 →
//     0.0440. Faces found rotated in-plane or by the proposal stage, and
//     faces whose box crosses the image's border (the moved crops would
//     reach further into the black outside), keep their single-crop
//     points.
//  9. Order. Faces come largest first by the area of their box inside the
//     image: a head cut by the frame at the edge of a picture is most often
//     a bystander, and its box, reaching outside, can be larger than the
//     subject's.
//
// measurements-2026-11-30-proposals.md has the effect of steps 7 to 9 on
// LFW, ORL, kpop13 and the LFW crops.
//
// # Accuracy and speed
//
// Against the reference landmarks of the 7698 LFW images used by pairs.txt
// (../shared/golden/landmarks, from a 68-point CNN), TestLFWLandmarks
// measures the mean point error divided by the reference inter-ocular
// distance (NME), for both methods. LandmarksCascade, on the half not used to
// fit the correction:
//
//	point        NME     (without the correction, on a quarter of LFW)
//	left eye     0.050   0.066
//	right eye    0.053   0.069
//	nose tip     0.051   0.053
//	left mouth   0.051   0.056
//	right mouth  0.056   0.072
//	all five     0.052   0.063, faces with NME > 0.1: 6.8% (8.4%)
//
// with 0.6% of the images giving no face and 0.3% another face than the
// reference one. LandmarksONet measured about 0.045 with about 1–2% of faces
// over 0.1 on the first 1000 images; end to end (fold 1 of LFW, bench
// package) the cascade points gave 98.50% pair accuracy.
//
// Detect with the default ONet landmarks costs the grey conversion, one
// cascade scan, and one ONet pass (a 48x48 crop and 13 M multiply-adds
// through internal/gemm) per face and per weak window checked. The scan
// dominates: it grows with the image area divided by the square of the
// smallest face searched for. On one core (-cpu 1) of the shared 2-core AMD
// EPYC development VM, whose speed drifts by ±25 % between runs, for a
// 640x480 photo (BenchmarkDetectSelfie, BenchmarkDetect; ratios are to
// baselines run in the same process):
//
//	                                   time/op     vs pigo RunCascade  vs pigo RunCascade
//	                                               at MinSize 40       at MinSize 20
//	one face (selfie), ONet landmarks  11.8–17 ms  0.46–0.62           0.11–0.14
//	two faces, ONet landmarks          12.4–18 ms  0.47–0.54           0.11–0.16
//	two faces, cascade landmarks       25–34 ms    about 1.0           0.25
//	the scan alone                     7.7–11 ms   0.30–0.43           0.08
//	pigo's RunCascade, MinSize 40      25–34 ms    1                   0.28
//	pigo's RunCascade, MinSize 20      105–122 ms                      1
//
// The issue that set the speed goal measured pigo's cascade alone at MinSize
// 20 at about 45 ms and asked for detection with landmarks in 15 ms, a third
// of it; this VM runs that baseline 2.5 times slower, and Detect takes a
// seventh to a ninth of it.
//
// with 20–22 allocations (about 310 KB, the grey copy) per call. The grey
// conversion takes about 1 ms against 9 ms for pigo's RgbToGrayscale, an
// ONet pass 0.7 ms plus 0.3–1.3 ms for the crop. The landmark cascades take
// about 5.5 ms per face, which is why LandmarksCascade is now the slower
// method. Lowering MinFaceFraction for group photos (1/40 finds the 29 faces
// of the 1927 Solvay photo) makes the scan several times slower; a coarser
// ShiftFactor or ScaleFactor is faster but loses faces (at 0.15/1.15 two of
// the portrait fixtures are missed), because pico's detector relies on many
// overlapping windows.
//
// # Determinism and concurrency
//
// A Detector is immutable after New. Detect allocates its working buffers
// per call or takes them from pools, uses no global random state, and sorts every intermediate list
// with total orders, so identical input gives bit-identical output on every
// run, in every goroutine, whatever else the process does.
//
// # Deadlines and memory
//
// DetectContext is Detect under a context: it looks at the context every
// 16 rows of the grey conversion, before each window size of every scan,
// between the stages and before each ONet call, and returns ctx.Err() (never
// a partial result) once it is done, so a deadline is met within well under
// 100 ms of work even on images that take every stage.
//
// Beyond the input image, Detect's live heap grows with the square of the
// working copy's long side (rotated copies of the padded raster span it on
// both sides); internal/imageio.DetectorBytes is the bound the service
// charges for it, and TestDetectAllocBound checks Detect against it.
//
// # Code layout
//
// detect.go holds Detector, New and Detect with the scan-to-faces mapping;
// options.go the Options and their defaults; stages.go the stages after the
// scan (mirror, padding, ONet's check, quarter turns, rotations, the slow
// retries); merge.go the final duplicate merge; landmarks.go the cascade
// landmarks and correct.go their correction; scan.go, cascade.go, gray.go,
// pad.go and refine.go the scan, the tree cascades, the grey copies, the
// padding and ONet (with the landmark polish); proposals.go the MTCNN
// stage.
//
// # Errors
//
// Detect returns ErrNilImage for a nil image and ErrEmptyImage for one
// smaller than MinImageSide on a side; New returns ErrInvalidOptions (wrapped
// with the offending field). ErrInternal wraps a recovered panic from the
// cascade code, which would be a bug. No face is not an error. DetectContext
// also returns its context's error.
//
// # Licences
//
// The cascades are data from pigo (MIT, Endre Simo) and were trained by
// Nenad Markus et al. for pico; see weights/NOTICE-pigo.md, including its
// caveat about the history of pico's own licence.
package detect
