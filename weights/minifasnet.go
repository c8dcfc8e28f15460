package weights

import _ "embed" // go:embed of the MiniFASNet liveness networks

// minifasnet_v2.pth and minifasnet_v1se.pth are
// resources/anti_spoof_models/2.7_80x80_MiniFASNetV2.pth and
// 4_0_0_80x80_MiniFASNetV1SE.pth of minivision-ai/Silent-Face-Anti-Spoofing
// (commit b6d5f04ad78778917853b25c778acef6d5626d15), byte for byte, under the
// Apache License 2.0 (see NOTICE-minifasnet.md and LICENSE-minifasnet).
//
//go:embed minifasnet_v2.pth
var miniFASNetV2 []byte

//go:embed minifasnet_v1se.pth
var miniFASNetV1SE []byte

// SHA-256 of the bundled MiniFASNet state dicts, as published in the
// project's provenance record of the original files.
const (
	MiniFASNetV2SHA256   = "a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0"
	MiniFASNetV1SESHA256 = "84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990"
)

// MiniFASNetV2 returns the MiniFASNetV2 passive-liveness network (80x80 BGR
// input, face box grown 2.7 times) as a PyTorch state dict in torch.save's
// legacy stream format (1,849,453 bytes). Package liveness loads it. Callers
// must not modify the returned bytes.
func MiniFASNetV2() []byte { return miniFASNetV2 }

// MiniFASNetV1SE returns the MiniFASNetV1SE passive-liveness network (80x80
// BGR input, face box grown 4 times, squeeze-excitation blocks) as a PyTorch
// state dict (1,856,130 bytes). Callers must not modify the returned bytes.
func MiniFASNetV1SE() []byte { return miniFASNetV1SE }
