/**
 * Session settings that make onnxruntime's int8 arithmetic the same on every x86-64 CPU.
 *
 * For uint8 activations × int8 weights (QLinearConv, QLinearMatMul, MatMulInteger: MobileNetV2
 * int8, the int8 CLIP towers), onnxruntime's default kernel on AVX2 CPUs without VNNI multiplies
 * with VPMADDUBSW, which adds pairs of products into 16 bits and saturates; CPUs with VNNI (and
 * the ONNX definition) sum exactly. Measured on this machine's AVX2 EPYC: 84 of 100 CIFAR-10
 * images changed their top ImageNet class, and CIFAR-10 zero-shot accuracy fell from 0.55 to 0.50.
 * `x64quantprecision` makes onnxruntime use the exact kernel there (it widens the weights, as
 * for uint8 weights); on VNNI CPUs it changes nothing. Features stay a function of the image,
 * not of the CPU that indexed it, so indexes built on different machines compare.
 */
export const EXACT_INT8_SESSION = { x64quantprecision: '1' } as const;
