package bench

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math"
	"os"
	"sync"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/align"
	"github.com/facematch/facematch/detect"
	"github.com/facematch/facematch/embed"
	"github.com/facematch/facematch/internal/imageio"
	"github.com/facematch/facematch/internal/sharedtest"
)

// uploadPixels is the size of the benchmark images: a 640x480 photo's area.
const uploadPixels = 640 * 480

// upload is one benchmark input at every stage of the pipeline.
type upload struct {
	name string
	jpeg []byte
	img  image.Image
	face detect.Face // the largest face
	crop *image.RGBA
}

var (
	uploadsOnce sync.Once
	uploads     []*upload
	uploadsErr  error
)

// makeUpload reads a fixture, scales it to ~uploadPixels (aspect kept) with
// Catmull-Rom, and re-encodes it as a quality-90 JPEG.
func makeUpload(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	src, _, err := imageio.Decode(data, nil)
	if err != nil {
		return nil, err
	}
	b := src.Bounds()
	s := math.Sqrt(uploadPixels / float64(b.Dx()*b.Dy()))
	dst := image.NewRGBA(image.Rect(0, 0, int(math.Round(float64(b.Dx())*s)), int(math.Round(float64(b.Dy())*s))))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, b, xdraw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 90}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fixtures returns the two uploads, decoded, detected and aligned once.
func fixtures(b *testing.B) ([]*upload, *detect.Detector) {
	b.Helper()
	p1 := sharedtest.Path(b, "fixtures", "obama_portrait_2012.jpg")
	p2 := sharedtest.Path(b, "fixtures", "obama_congress_2009.jpg")
	det, err := detect.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	uploadsOnce.Do(func() {
		for _, f := range []struct{ name, path string }{{"portrait", p1}, {"congress", p2}} {
			u := &upload{name: f.name}
			if u.jpeg, uploadsErr = makeUpload(f.path); uploadsErr != nil {
				return
			}
			if u.img, _, uploadsErr = imageio.Decode(u.jpeg, nil); uploadsErr != nil {
				return
			}
			faces, err := det.Detect(u.img)
			if err != nil || len(faces) == 0 {
				uploadsErr = err
				if err == nil {
					uploadsErr = facematch.ErrNoFace
				}
				return
			}
			u.face = faces[0]
			if u.crop, uploadsErr = align.Crop(u.img, faces[0].Landmarks); uploadsErr != nil {
				return
			}
			uploads = append(uploads, u)
		}
	})
	if uploadsErr != nil {
		b.Fatal(uploadsErr)
	}
	return uploads, det
}

func BenchmarkStages(b *testing.B) {
	ups, det := fixtures(b)
	for _, u := range ups {
		b.Run("decode/"+u.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(u.jpeg)))
			for b.Loop() {
				if _, _, err := imageio.Decode(u.jpeg, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, u := range ups {
		b.Run("detect/"+u.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if faces, err := det.Detect(u.img); err != nil || len(faces) == 0 {
					b.Fatal(len(faces), err)
				}
			}
		})
	}
	for _, u := range ups {
		lm := u.face.Landmarks
		b.Run("align/"+u.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := align.Crop(u.img, lm); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, flip := range []struct {
		name    string
		disable bool
	}{{"flip", false}, {"noflip", true}} {
		e, err := embed.New(&embed.Options{DisableFlip: flip.disable, Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.Run("embed/"+flip.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Embed(ups[0].crop); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEndToEnd(b *testing.B) {
	ups, _ := fixtures(b)
	m, err := facematch.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("embed-one-image", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := m.Embed(ctx, facematch.Bytes(ups[0].jpeg)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := m.Compare(ctx, facematch.Bytes(ups[0].jpeg), facematch.Bytes(ups[1].jpeg), nil)
			if err != nil {
				b.Fatal(err)
			}
			if !r.Match {
				b.Fatalf("the two Obama photos do not match: %.2f%%", r.Percentage)
			}
		}
	})
	b.Run("compare-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := m.Compare(ctx, facematch.Bytes(ups[0].jpeg), facematch.Bytes(ups[1].jpeg), nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
