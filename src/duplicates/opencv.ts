import { createRequire } from 'node:module';
/**
 * OpenCV's JavaScript build (a 10 MB WebAssembly module), loaded once and only when a precise
 * duplicate check first needs it: opening a collection or searching never pays for it.
 */

// The package's own typings describe the browser global; these are the few calls used here.
export interface Cv {
  Mat: new () => CvMat;
  matFromArray(rows: number, cols: number, type: number, data: ArrayLike<number>): CvMat;
  CV_8UC1: number;
  CV_32FC2: number;
  RANSAC: number;
  NORM_HAMMING: number;
  ORB: new (nfeatures?: number) => { detectAndCompute(img: CvMat, mask: CvMat, kp: CvKeyPoints, desc: CvMat): void; delete(): void };
  KeyPointVector: new () => CvKeyPoints;
  DMatchVectorVector: new () => {
    size(): number;
    get(i: number): { size(): number; get(j: number): { queryIdx: number; trainIdx: number; distance: number } };
    delete(): void;
  };
  BFMatcher: new (norm: number, crossCheck: boolean) => { knnMatch(a: CvMat, b: CvMat, out: unknown, k: number): void; delete(): void };
  findHomography(src: CvMat, dst: CvMat, method: number, threshold: number, mask: CvMat): CvMat;
}

export interface CvMat {
  rows: number;
  cols: number;
  data: Uint8Array;
  data64F: Float64Array;
  empty(): boolean;
  delete(): void;
}

export interface CvKeyPoints {
  size(): number;
  get(i: number): { pt: { x: number; y: number }; response: number };
  delete(): void;
}

let loading: Promise<Cv> | null = null;

export function loadOpenCv(): Promise<Cv> {
  loading ??= (async () => {
    // Loaded with require, not import(): the module is a thenable that resolves to itself, and
    // a loader that exposes its `then` on the namespace object would have import() unwrap it
    // forever. Once it is initialised, its `then` is removed for the same reason.
    const cv = createRequire(import.meta.url)('@techstark/opencv-js') as Cv & { onRuntimeInitialized?: () => void; then?: unknown };
    if (typeof cv.Mat !== 'function') await new Promise<void>((resolve) => (cv.onRuntimeInitialized = resolve));
    delete cv.then;
    return cv;
  })();
  loading.catch(() => (loading = null));
  return loading;
}
