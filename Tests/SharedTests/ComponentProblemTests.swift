import MCPShared
import ServiceKit
import Testing

@Suite struct ComponentProblemTests {
    @Test func aRecordedProblemIsAnUnhealthyComponentUntilCleared() throws {
        let problem = ComponentProblem(name: "config", endpoint: "/config/router.yaml")
        #expect(problem.component == nil)
        problem.record("refused: model_list is empty")
        let first = try #require(problem.component)
        #expect(first.name == "config" && first.status == .unhealthy && first.endpoint == "/config/router.yaml")
        #expect(first.lastError == "refused: model_list is empty")
        // The same problem again keeps when it started; another one starts anew.
        problem.record("refused: model_list is empty")
        #expect(problem.component?.lastProbe == first.lastProbe)
        problem.record("refused: not YAML")
        #expect(problem.component?.lastError == "refused: not YAML")
        problem.clear()
        #expect(problem.component == nil)
    }
}
