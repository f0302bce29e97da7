import CEngineKernels
import SiftRandom
import Testing

/// Where the CPU runs AVX-512, the sparse products take sixteen floats at a time. They must give the bits of
/// the eight-float build, or a sweep's files would depend on which nodes ran it.
@Suite struct WideKernelTests {
    /// A random blocked index over `rows` output rows and `blocks` blocks of `sourcesPerBlock` source rows,
    /// with empty segments among them, and the inputs of one product.
    struct Product {
        let blocks: Int, rows: Int, width: Int, stride: Int
        var starts: [Int32] = [0], sources: [Int32] = [], valueIndex: [Int32] = []
        var values: [Float] = [], initial: [Float] = [], source: [Float] = []

        init(blocks: Int, rows: Int, width: Int, stream: inout RandomStream) {
            let sourcesPerBlock = 9
            (self.blocks, self.rows, self.width, stride) = (blocks, rows, width, width + 16)
            for b in 0..<blocks {
                for _ in 0..<rows {
                    for _ in 0..<stream.nextInt(below: 12) {
                        sources.append(Int32(b * sourcesPerBlock + stream.nextInt(below: sourcesPerBlock)))
                    }
                    starts.append(Int32(sources.count))
                }
            }
            values = sources.map { _ in Float(stream.nextNormal()) }
            valueIndex = Array((0..<Int32(sources.count)).reversed())
            sources += [Int32](repeating: 0, count: Int(SIFT_INDEX_PADDING))
            initial = (0..<rows).map { _ in Float(stream.nextNormal()) }
            source = (0..<(blocks * sourcesPerBlock * stride)).map { _ in Float(stream.nextNormal()) }
        }

        /// The product over rows firstRow..<endRow by `kernel`, into an output that starts as NaN everywhere.
        func run(_ kernel: Kernel, indirect: Bool, withInitial: Bool, rows range: Range<Int>) -> [Float] {
            var out = [Float](repeating: .nan, count: rows * stride)
            kernel(
                blocks, rows, range.lowerBound, range.upperBound, starts, sources, indirect ? valueIndex : nil, values,
                withInitial ? initial : nil, source, &out, width, stride)
            return out
        }

        /// The same product in Double, for a check that the kernels computed it at all.
        func reference(indirect: Bool, withInitial: Bool, row r: Int, column c: Int) -> Double {
            var sum = withInitial ? Double(initial[r]) : 0
            for b in 0..<blocks {
                for e in Int(starts[b * rows + r])..<Int(starts[b * rows + r + 1]) {
                    let value = values[indirect ? Int(valueIndex[e]) : e]
                    sum += Double(value) * Double(source[Int(sources[e]) * stride + c])
                }
            }
            return sum
        }
    }

    typealias Kernel = (
        Int, Int, Int, Int, UnsafePointer<Int32>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?,
        UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?,
        Int, Int
    ) -> Void

    /// Widths of one and two 128-column sweeps with every remainder the sixteen-float build handles apart
    /// (32, 64, 96 columns); one block (the look-ahead loop) and three; values direct and through an index.
    @Test(
        .enabled(if: sift_has_avx512_kernels() != 0, "this CPU has no AVX-512: both calls run the eight-float build"),
        arguments: [32, 64, 96, 128, 224])
    func sixteenWideMatchesEightWide(width: Int) {
        var stream = RandomStream(root: 16, seed: UInt64(width), purpose: "wide-kernels")
        for blocks in [1, 3] {
            let product = Product(blocks: blocks, rows: 11, width: width, stream: &stream)
            for indirect in [false, true] {
                for withInitial in [false, true] {
                    for range in [0..<11, 3..<8] {
                        let wide = product.run(
                            sift_accumulate_rows, indirect: indirect, withInitial: withInitial, rows: range)
                        let narrow = product.run(
                            sift_accumulate_rows_eight_wide, indirect: indirect, withInitial: withInitial,
                            rows: range)
                        let differing = zip(wide, narrow).filter { $0.bitPattern != $1.bitPattern }.count
                        #expect(
                            differing == 0,
                            "\(blocks) blocks, indirect \(indirect), initial \(withInitial), rows \(range)")
                        for r in range {
                            for c in [0, width / 2 + 3, width - 1] {
                                let exact = product.reference(
                                    indirect: indirect, withInitial: withInitial, row: r, column: c)
                                #expect(abs(Double(wide[r * product.stride + c]) - exact) <= 1e-4 * max(1, abs(exact)))
                            }
                        }
                        #expect(
                            wide[(range.upperBound - 1) * product.stride + width].isNaN,
                            "padding columns are not written")
                        #expect(range.lowerBound == 0 || wide[0].isNaN, "rows outside the range are not written")
                    }
                }
            }
        }
    }

    /// The weight gradient's dot product for one entry, in the order the kernels define: sixteen lane sums of
    /// fused multiply-adds (lane l takes the columns ≡ l mod 16 in ascending order), lane l + lane l + 8,
    /// then ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)).
    static func definedDot(_ x: ArraySlice<Float>, _ g: ArraySlice<Float>) -> Float {
        var lanes = [Float](repeating: 0, count: 16)
        for (c, (xc, gc)) in zip(x, g).enumerated() { lanes[c % 16] = lanes[c % 16].addingProduct(xc, gc) }
        let f = (0..<8).map { lanes[$0] + lanes[$0 + 8] }
        return ((f[0] + f[1]) + (f[2] + f[3])) + ((f[4] + f[5]) + (f[6] + f[7]))
    }

    /// Every entry's gradient is its defined dot product, bit for bit, in either build, whatever the size of
    /// its segment (0 to 19 entries: empty, whole groups and every remainder), the blocks, or the column range; and
    /// a descent step moves each value by exactly −rate × that product. So neither the blocking nor the CPU's
    /// vector width changes what training computes.
    @Test(arguments: [32, 128, 160])
    func everyEntrysGradientHasTheDefinedOrder(width: Int) {
        var stream = RandomStream(root: 17, seed: UInt64(width), purpose: "sampled-gradient")
        let (blocks, columns, sourcesPerBlock, stride) = (2, 9, 23, width + 16)
        var starts: [Int32] = [0], rows: [Int32] = []
        for b in 0..<blocks {
            for j in 0..<columns {
                for _ in 0..<((j * 7 + b * 5) % 20) {
                    rows.append(Int32(b * sourcesPerBlock + stream.nextInt(below: sourcesPerBlock)))
                }
                starts.append(Int32(rows.count))
            }
        }
        let entries = rows.count
        rows += [Int32](repeating: 0, count: Int(SIFT_INDEX_PADDING))
        let inputT = (0..<(blocks * sourcesPerBlock * stride)).map { _ in Float(stream.nextNormal()) }
        let gradOutputT = (0..<(columns * stride)).map { _ in Float(stream.nextNormal()) }
        let start = (0..<entries).map { _ in Float(stream.nextNormal()) }
        let rate: Float = 0.05
        let builds: [(String, SampledGradientKernel)] = [
            ("dispatched", sift_sampled_gradient),
            ("eight-float", sift_sampled_gradient_eight_wide),
        ]
        for (build, kernel) in builds {
            for range in [0..<columns, 2..<7] {
                var gradient = [Float](repeating: .nan, count: entries), values = start
                kernel(
                    blocks, columns, range.lowerBound, range.upperBound, starts, rows, inputT, gradOutputT, width,
                    stride,
                    &values, &gradient, 0, 0)
                var descended = start, unused = [Float](repeating: .nan, count: entries)
                kernel(
                    blocks, columns, range.lowerBound, range.upperBound, starts, rows, inputT, gradOutputT, width,
                    stride,
                    &descended, &unused, rate, 1)
                var wrong = 0, untouchedWritten = 0
                for b in 0..<blocks {
                    for j in 0..<columns {
                        for k in Int(starts[b * columns + j])..<Int(starts[b * columns + j + 1]) {
                            guard range.contains(j) else {
                                if !gradient[k].isNaN || descended[k] != start[k] { untouchedWritten += 1 }
                                continue
                            }
                            let x = Int(rows[k]) * stride, g = j * stride
                            let dot = Self.definedDot(inputT[x..<(x + width)], gradOutputT[g..<(g + width)])
                            let step = start[k].addingProduct(-rate, dot)
                            if gradient[k].bitPattern != dot.bitPattern || descended[k].bitPattern != step.bitPattern {
                                wrong += 1
                            }
                        }
                    }
                }
                #expect(wrong == 0, "\(build) build, width \(width), columns \(range): \(wrong) of \(entries) entries")
                #expect(untouchedWritten == 0, "\(build) build wrote entries outside columns \(range)")
            }
        }
    }

    typealias SampledGradientKernel = (
        Int, Int, Int, Int, UnsafePointer<Int32>?, UnsafePointer<Int32>?, UnsafePointer<Float>?,
        UnsafePointer<Float>?, Int, Int, UnsafeMutablePointer<Float>?,
        UnsafeMutablePointer<Float>?, Float, Int32
    ) -> Void
}
