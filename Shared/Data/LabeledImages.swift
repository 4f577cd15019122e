// A labelled image set held as one flat Float buffer (weeks 1-4): the embedded 8x8 digits,
// MNIST, Fashion-MNIST. Row n of `pixels` is image n, row-major (height, width), in [0, 1].
import SharedKernels
import SharedTools

/// Images and their class labels.
/// pixels: (count, height*width) in [0, 1], 0 = black.   labels: (count), each in 0..<classNames.count.
public struct LabeledImages {
    public var pixels: [Float]
    public var labels: [Int]
    public var count: Int
    public var height: Int
    public var width: Int
    public var classNames: [String]
    /// Where the images came from, for logs and metrics ("digits", "mnist", "fashion-mnist").
    public var name: String

    /// Pixels per image, the input size of a model that reads the image as a flat vector.
    public var features: Int { height * width }

    public init(pixels: [Float], labels: [Int], count: Int, height: Int, width: Int,
                classNames: [String], name: String) {
        precondition(pixels.count == count * height * width,
                     "LabeledImages: \(pixels.count) pixels for \(count) images of \(height)x\(width)")
        precondition(labels.count == count, "LabeledImages: \(labels.count) labels for \(count) images")
        self.pixels = pixels
        self.labels = labels
        self.count = count
        self.height = height
        self.width = width
        self.classNames = classNames
        self.name = name
    }

    /// The images at `indices` (in that order, repeats allowed), same metadata.
    public func subset(_ indices: [Int]) -> LabeledImages {
        let batch = batch(indices)
        return LabeledImages(pixels: batch.pixels, labels: batch.labels, count: indices.count,
                             height: height, width: width, classNames: classNames, name: name)
    }

    /// Gathers a mini-batch: pixels (indices.count, features) and labels (indices.count).
    public func batch(_ indices: [Int]) -> (pixels: [Float], labels: [Int]) {
        let batchLabels = indices.map { index in
            precondition(index >= 0 && index < count, "batch: index \(index) outside 0..<\(count)")
            return labels[index]
        }
        return (gatherRows(pixels, rows: indices, width: features), batchLabels)
    }

    /// A seeded random split: a fraction `trainFraction` (rounded down) of the images, shuffled,
    /// goes to `train`, the rest to `test`. The same seed always gives the same split.
    public func split(trainFraction: Double, rng: inout SplitMix64)
        -> (train: LabeledImages, test: LabeledImages)
    {
        precondition(trainFraction >= 0 && trainFraction <= 1, "split: trainFraction \(trainFraction) not in [0, 1]")
        let order = rng.permutation(count)
        let trainCount = Int(Double(count) * trainFraction)
        return (subset(Array(order[..<trainCount])), subset(Array(order[trainCount...])))
    }

    /// How many images each class has: (classNames.count).
    public func classCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for label in labels where label >= 0 && label < counts.count { counts[label] += 1 }
        return counts
    }

    /// Image `index` alone: (height*width).
    public func image(_ index: Int) -> [Float] {
        Array(pixels[(index * features)..<((index + 1) * features)])
    }
}
