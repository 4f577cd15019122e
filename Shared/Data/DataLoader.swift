// A data loader in PyTorch's sense (week 4 on): seeded shuffling, mini-batches with an
// optional drop-last, a train/validation split, and an epoch you iterate with a for loop:
//
//     let loader = DataLoader(train, batchSize: 128, shuffle: true)
//     for epoch in 1...epochs {
//         for batch in loader.epoch(rng: &rng) {   // batch.inputs (rows, features), batch.labels (rows)
//             ...
//         }
//     }
//
// The order comes from `MiniBatches` (Batching.swift); this adds the gathering of the rows.
// Reference: https://pytorch.org/docs/stable/data.html#torch.utils.data.DataLoader
import SharedKernels
import SharedTools

/// One gathered mini-batch.
public struct Batch {
    /// The examples' features, (rows, features) row-major.
    public var inputs: [Float]
    /// Their class labels, (rows).
    public var labels: [Int]
    /// Which examples of the data set these are, (rows).
    public var indices: [Int]
    public var rows: Int { labels.count }
}

/// Mini-batches over labelled examples held as one (count, features) buffer.
public struct DataLoader {
    /// All examples, (count, features) row-major, and their labels (count).
    public let inputs: [Float]
    public let labels: [Int]
    public let features: Int
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool

    public var count: Int { labels.count }

    public init(inputs: [Float], labels: [Int], features: Int, batchSize: Int, shuffle: Bool = true,
                dropLast: Bool = false) {
        precondition(features > 0 && inputs.count == labels.count * features,
                     "DataLoader: \(inputs.count) values for \(labels.count) examples of \(features) features")
        precondition(batchSize >= 1, "DataLoader: batchSize must be at least 1, got \(batchSize)")
        self.inputs = inputs
        self.labels = labels
        self.features = features
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
    }

    /// A loader over an image set: each image is one row of `images.features` pixels.
    public init(_ images: LabeledImages, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false) {
        self.init(inputs: images.pixels, labels: images.labels, features: images.features,
                  batchSize: batchSize, shuffle: shuffle, dropLast: dropLast)
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? count / batchSize : (count + batchSize - 1) / batchSize
    }

    /// One pass over the data: the order is drawn from `rng` now (one permutation per epoch
    /// when shuffling), so the same rng state always gives the same batches.
    public func epoch(rng: inout SplitMix64) -> Epoch {
        Epoch(loader: self, batches: MiniBatches(count: count, batchSize: batchSize, shuffle: shuffle,
                                                 dropLast: dropLast, rng: &rng))
    }

    /// Gathers the rows `indices` into one batch.
    public func batch(_ indices: [Int]) -> Batch {
        Batch(inputs: gatherRows(inputs, rows: indices, width: features), labels: indices.map { labels[$0] },
              indices: indices)
    }

    /// The batches of one epoch, gathered as the loop asks for them.
    public struct Epoch: Sequence {
        let loader: DataLoader
        let batches: MiniBatches

        /// The example order of this epoch, (count).
        public var order: [Int] { batches.order }

        public func makeIterator() -> Iterator {
            Iterator(loader: loader, indices: batches.makeIterator())
        }

        public struct Iterator: IteratorProtocol {
            let loader: DataLoader
            var indices: MiniBatches.Iterator

            public mutating func next() -> Batch? {
                indices.next().map { loader.batch($0) }
            }
        }
    }
}

extension LabeledImages {
    /// A seeded train/validation split of this set: round(count·validationFraction) images,
    /// chosen at random, become the validation set; the rest (in their original order) train.
    /// Validation is for model selection and early stopping; the test set stays untouched.
    public func trainValidationSplit(validationFraction: Double, rng: inout SplitMix64)
        -> (train: LabeledImages, validation: LabeledImages)
    {
        let (train, validation) = SharedData.trainValidationSplit(count: count, validationFraction: validationFraction,
                                                              rng: &rng)
        return (subset(train), subset(validation))
    }
}
