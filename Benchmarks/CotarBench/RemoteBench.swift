/// Section 3: lookups over HTTP on 127.0.0.1.
///
/// The HTTP range source (`CotarHTTP`) and the server are not part of the package yet, so
/// this section only reports that it is unavailable. When they exist, this is the place to
/// start a server on the corpus `.tar.co`, open it through the HTTP source, and measure
/// `remote.requests_cold` (requests for the first lookup), `remote.requests_per_lookup`
/// (warm) and `remote.lookups_per_s` with the same ``LookupBench/Workload``; the report and
/// JSON already carry sections marked unavailable.
enum RemoteBench {
  /// The remote section; unavailable until `CotarHTTP` is built.
  static func run(corpus: Corpus, repetitions: Int) async throws -> Section {
    Section(key: "remote", title: "3. Remote lookups over HTTP (127.0.0.1)", unavailableReason: "CotarHTTP not built")
  }
}
