using Onnx;

namespace Turbine.Onnx.Scanning;

/// <summary>
/// Walks every graph of a model (the main graph, the subgraphs of If, Loop and Scan nodes, the model's local
/// functions): counts nodes, measures the longest chain and the subgraph nesting, checks operator domains against
/// the allowlist, and names and metadata for control characters. Tensors met on the way go to the
/// <see cref="InitializerScan"/>.
/// </summary>
internal sealed class GraphScan(ScanFindings findings, InitializerScan tensors)
{
    private readonly HashSet<(string Domain, string Name)> _functions = [];
    private long _nodes;
    private int _longestChain;
    private string _longestChainGraph = "main graph";

    public void Run(OnnxModelOutline outline)
    {
        foreach (var (field, value) in outline.Labels.Where(label => ControlCharacters.InText(label.Value)))
        {
            findings.Block(ScanFindingKinds.ControlCharacters, field, "holds control characters");
        }

        foreach (var entry in outline.Metadata)
        {
            if (ControlCharacters.InName(entry.Key) || ControlCharacters.InText(entry.Value))
            {
                findings.Block(ScanFindingKinds.ControlCharacters, $"metadata '{entry.Key}'", "the key or value holds control characters");
            }
        }

        foreach (var value in outline.Inputs.Concat(outline.Outputs).Where(v => ControlCharacters.InName(v.Name)))
        {
            findings.Block(ScanFindingKinds.ControlCharacters, $"graph input or output '{value.Name}'", "the name holds control characters");
        }

        foreach (var function in outline.Functions)
        {
            _functions.Add((function.Domain, function.Name));
        }

        Walk(outline.Nodes, "main graph", depth: 0);
        foreach (var function in outline.Functions)
        {
            Walk(function.Node, $"function '{function.Domain}.{function.Name}'", depth: 0);
        }

        if (_nodes > findings.Policy.MaxNodes)
        {
            findings.Block(ScanFindingKinds.NodeCount, "model", $"{_nodes:N0} nodes, over the cap of {findings.Policy.MaxNodes:N0}");
        }

        if (_longestChain > findings.Policy.MaxGraphDepth)
        {
            findings.Block(ScanFindingKinds.GraphDepth, _longestChainGraph, $"a chain of {_longestChain:N0} nodes, over the cap of {findings.Policy.MaxGraphDepth:N0}");
        }

        tensors.Finish();
    }

    private void Walk(IEnumerable<NodeProto> nodes, string graph, int depth)
    {
        // Chain length per value: nodes are in topological order, so a node's inputs are known before it runs. Values
        // from outside the graph (inputs, initializers, an enclosing graph's values) start chains at zero.
        var chain = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            _nodes++;
            var subject = $"node '{node.Name}' ({node.OpType}) in {graph}";
            CheckNode(node, subject);
            var length = 1 + node.Input.Select(input => chain.GetValueOrDefault(input)).DefaultIfEmpty().Max();
            foreach (var output in node.Output)
            {
                chain[output] = length;
            }

            if (length > _longestChain)
            {
                (_longestChain, _longestChainGraph) = (length, graph);
            }

            foreach (var attribute in node.Attribute)
            {
                WalkAttribute(attribute, subject, depth);
            }
        }
    }

    private void CheckNode(NodeProto node, string subject)
    {
        if (!findings.Policy.AllowsDomain(node.Domain) && !_functions.Contains((node.Domain, node.OpType)))
        {
            findings.Block(ScanFindingKinds.CustomDomain, subject, $"operator domain '{ClientText.Quote(node.Domain)}' is not allowed (allowed: the ONNX and ONNX Runtime domains and ModelScan:AllowedDomains)");
        }

        if (ControlCharacters.InName(node.Name) || ControlCharacters.InName(node.OpType) || node.Input.Concat(node.Output).Any(ControlCharacters.InName))
        {
            findings.Block(ScanFindingKinds.ControlCharacters, subject, "the node's name, operator or tensor names hold control characters");
        }
    }

    private void WalkAttribute(AttributeProto attribute, string subject, int depth)
    {
        if (attribute.T is { } tensor)
        {
            tensors.Check(InitializerHeader.Of(tensor), $"attribute '{attribute.Name}' of {subject}");
        }

        foreach (var value in attribute.Tensors)
        {
            tensors.Check(InitializerHeader.Of(value), $"attribute '{attribute.Name}' of {subject}");
        }

        if ((attribute.S.Length > 0 && ControlCharacters.InText(attribute.S.ToStringUtf8())) || attribute.Strings.Any(s => ControlCharacters.InText(s.ToStringUtf8())))
        {
            findings.Block(ScanFindingKinds.ControlCharacters, $"attribute '{attribute.Name}' of {subject}", "a string value holds control characters");
        }

        var subgraphs = attribute.G is null ? attribute.Graphs : attribute.Graphs.Prepend(attribute.G);
        foreach (var subgraph in subgraphs)
        {
            if (depth + 1 > findings.Policy.MaxSubgraphDepth)
            {
                // One finding is enough; what lies deeper is not walked.
                if (!findings.Any(ScanFindingKinds.SubgraphDepth))
                {
                    findings.Block(ScanFindingKinds.SubgraphDepth, subject, $"subgraphs nest deeper than the cap of {findings.Policy.MaxSubgraphDepth}");
                }

                continue;
            }

            foreach (var initializer in subgraph.Initializer)
            {
                tensors.Check(InitializerHeader.Of(initializer), $"initializer '{initializer.Name}' of a subgraph of {subject}");
            }

            Walk(subgraph.Node, $"subgraph '{attribute.Name}' of {subject}", depth + 1);
        }
    }
}
