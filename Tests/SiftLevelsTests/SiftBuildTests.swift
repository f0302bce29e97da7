import SiftCluster
import SiftLevels
import SiftConfig
import Testing

@Suite struct SiftBuildTests {
    @Test func theIdentifierFollowsTheDefaultsAndTheBLASVersion() {
        let table = ConfigKeyReference.defaultsTable
        #expect(table.contains("train.lr = 0.1"), "the defaults table holds every key with its default")
        let ours = SiftBuild.identifier(defaults: table, blas: "OpenBLAS 0.3.21")
        #expect(ours.hasPrefix("sift-\(SiftBuild.version)-wire2-engine\(SiftBuild.engineRevision)-"))
        #expect(
            ours == SiftBuild.identifier(defaults: table, blas: "OpenBLAS 0.3.21"),
            "derived, so the same inputs give the same build")
        let otherDefault = table.replacingOccurrences(of: "train.lr = 0.1", with: "train.lr = 0.05")
        #expect(
            SiftBuild.identifier(defaults: otherDefault, blas: "OpenBLAS 0.3.21") != ours,
            "another default, another build")
        #expect(SiftBuild.identifier(defaults: table, blas: "OpenBLAS 0.3.26") != ours, "another BLAS, another build")
    }
}
