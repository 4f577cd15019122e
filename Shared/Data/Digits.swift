// The embedded 8x8 handwritten digits (weeks 1-4 run on them with no download): 1,797
// images from the UCI optdigits test set, as shipped in scikit-learn (Datasets/README.md).
// Each CSV line is 64 pixel values in 0...16 (row-major 8x8), then the label 0...9.
import SharedKernels
import SharedTools

public enum Digits {
    public static let height = 8
    public static let width = 8
    /// The largest pixel value in the file: each pixel counts "on" bits in a 4x4 block.
    public static let maxPixelValue: Float = 16

    /// Loads Datasets/digits.csv.gz: pixels scaled to [0, 1] (value / 16), labels 0...9,
    /// in the file's order. Throws if the file is missing or a line is malformed.
    public static func load() throws -> LabeledImages {
        let path = try DatasetFiles.path("digits.csv.gz")
        return try parse(readPossiblyGzippedFile(path), source: path)
    }

    /// Parses the CSV bytes (see the file header for the layout). `source` names it in errors.
    static func parse(_ csv: [UInt8], source: String) throws -> LabeledImages {
        let D = height * width
        var pixels: [Float] = []
        var labels: [Int] = []
        pixels.reserveCapacity(1797 * D)
        var row: [Int] = []
        var value = 0, digitsInValue = 0, line = 1

        func endValue() throws {
            guard digitsInValue > 0 else { throw WorkbookError("\(source): line \(line): empty value") }
            row.append(value)
            value = 0
            digitsInValue = 0
        }
        func endRow() throws {
            try endValue()
            guard row.count == D + 1 else {
                throw WorkbookError("\(source): line \(line): \(row.count) values, expected \(D + 1)")
            }
            guard row[..<D].allSatisfy({ $0 <= 16 }), row[D] <= 9 else {
                throw WorkbookError("\(source): line \(line): pixel above 16 or label above 9")
            }
            pixels += row[..<D].map { Float($0) / maxPixelValue }
            labels.append(row[D])
            row.removeAll(keepingCapacity: true)
            line += 1
        }

        for byte in csv {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digitsInValue += 1
                if digitsInValue > 3 { throw WorkbookError("\(source): line \(line): value too long") }
            case UInt8(ascii: ","): try endValue()
            case UInt8(ascii: "\n"): try endRow()
            case UInt8(ascii: "\r"), UInt8(ascii: " "): continue
            default:
                throw WorkbookError("\(source): line \(line): unexpected character \(Character(Unicode.Scalar(byte)))")
            }
        }
        if digitsInValue > 0 || !row.isEmpty { try endRow() }  // last line without "\n"
        guard !labels.isEmpty else { throw WorkbookError("\(source): no images") }

        return LabeledImages(pixels: pixels, labels: labels, count: labels.count, height: height,
                             width: width, classNames: (0...9).map(String.init), name: "digits")
    }
}
