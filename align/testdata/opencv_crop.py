#!/usr/bin/python3
"""Reference crop made by OpenCV, to check align.Crop against cv2.warpAffine.

Needs Debian's python3-opencv (apt-get install python3-opencv). From the module root:

    /usr/bin/python3 align/testdata/opencv_crop.py    # writes align/testdata/opencv_crop.png

It draws the same 320x240 test pattern as align_test.go's pattern(), estimates the
similarity transform from goldenLandmarks to the ArcFace template with the textbook
Umeyama SVD (numpy), and warps with cv2.warpAffine(INTER_LINEAR, BORDER_CONSTANT 0),
which is how ArcFace-family pipelines (insightface's norm_crop) align faces.
"""
import os

import cv2
import numpy as np

TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                     [41.5493, 92.3655], [70.7299, 92.2041]])
LANDMARKS = np.array([[131.3, 92.8], [186.9, 110.2], [151.7, 133.4],
                      [118.2, 160.9], [163.4, 175.6]])


def pattern(w, h):
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 7 + y * 3) & 255
    g = np.floor(128 + 100 * np.sin(x / 9) * np.cos(y / 13))
    b = ((x ^ y) * 5) & 255
    return np.dstack([r, g, b]).astype(np.uint8)  # RGB


def umeyama(src, dst):
    n = len(src)
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    cov = d.T @ s / n
    u, sv, vt = np.linalg.svd(cov)
    sgn = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt))])
    r = u @ sgn @ vt
    c = np.trace(np.diag(sv) @ sgn) / ((s ** 2).sum() / n)
    t = md - c * r @ ms
    return np.hstack([c * r, t[:, None]])


def main():
    img = pattern(320, 240)
    m = umeyama(LANDMARKS, TEMPLATE)
    crop = cv2.warpAffine(img, m, (112, 112), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "opencv_crop.png")
    cv2.imwrite(out, cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    print("M =", m.tolist())
    print("OpenCV", cv2.__version__, "wrote", out)


if __name__ == "__main__":
    main()
