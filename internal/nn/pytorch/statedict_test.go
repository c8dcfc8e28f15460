package pytorch

import (
	"errors"
	"testing"

	"github.com/facematch/facematch/weights"
)

func TestDecodeLegacyStateDict(t *testing.T) {
	sd, err := Decode(weights.MiniFASNetV2())
	if err != nil {
		t.Fatal(err)
	}
	// Saved before BatchNorm had num_batches_tracked: 284 float tensors.
	if len(sd) != 284 {
		t.Errorf("%d float tensors, want 284", len(sd))
	}
	w, ok := sd["module.conv1.conv.weight"]
	if !ok || len(w.Shape) != 4 || w.Shape[0] != 32 || w.Shape[1] != 3 || w.Shape[2] != 3 || w.Shape[3] != 3 || len(w.Data) != w.Len() {
		t.Fatalf("conv1 weight %v (%d values)", w.Shape, len(w.Data))
	}
	if v := sd["module.conv1.bn.running_var"]; len(v.Data) != 32 || v.Data[0] <= 0 {
		t.Errorf("running_var %v", v.Data)
	}
	keys := sd.Keys()
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Fatalf("keys not sorted at %d", i)
		}
	}
}

func TestDecodeRejectsDamagedFiles(t *testing.T) {
	b := weights.MiniFASNetV1SE()
	for _, n := range []int{0, 1, 10, 100, 1000, len(b) / 2, len(b) - 1} {
		if _, err := Decode(b[:n]); !errors.Is(err, ErrFormat) {
			t.Errorf("truncated to %d bytes: err %v, want ErrFormat", n, err)
		}
	}
	if _, err := Decode([]byte("PK\x03\x04 not really a zip")); !errors.Is(err, ErrFormat) {
		t.Errorf("bad zip: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(weights.MiniFASNetV2()[:4096])
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := Decode(b)
		if err == nil {
			for k, v := range sd {
				if len(v.Data) != v.Len() {
					t.Fatalf("%s: %d values for shape %v", k, len(v.Data), v.Shape)
				}
			}
		}
	})
}
