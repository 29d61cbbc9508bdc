using System.Text;

namespace Turbine.Llm.Templates;

/// <summary>A macro defined by a template: called like a function, it renders its body with its arguments bound.</summary>
internal sealed class Macro(MacroStatement definition, TemplateRenderer renderer, Scope closure)
{
    public object? Call(IReadOnlyList<object?> arguments, IReadOnlyDictionary<string, object?> keywords)
    {
        var scope = new Scope(closure);
        for (var i = 0; i < definition.Parameters.Count; i++)
        {
            var (name, fallback) = definition.Parameters[i];
            scope.Set(name, i < arguments.Count ? arguments[i]
                : keywords.TryGetValue(name, out var given) ? given
                : fallback is null ? Undefined.Value : renderer.Evaluate(fallback, scope));
        }

        var output = new StringBuilder();
        renderer.Run(definition.Body, scope, output);
        return output.ToString();
    }
}

/// <summary>Variables of one level: the template's, a loop body's, a macro's. Lookups go outward; sets stay here.</summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

    public object? Get(string name) =>
        _variables.TryGetValue(name, out var value) ? value : parent is null ? Undefined.Value : parent.Get(name);

    public void Set(string name, object? value) => _variables[name] = value;
}

/// <summary>
/// Renders parsed statements. Every expression evaluation counts against a budget, and the output against a size, so a
/// template cannot loop or grow without end whatever the messages hold.
/// </summary>
internal sealed class TemplateRenderer
{
    private const int MaxSteps = 5_000_000;
    private const int MaxOutputChars = 16 << 20;

    private int _steps;

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    public string Render(IReadOnlyList<Statement> program, Scope globals)
    {
        var output = new StringBuilder();
        Run(program, new Scope(globals), output);
        return output.ToString();
    }

    internal void Run(IReadOnlyList<Statement> statements, Scope scope, StringBuilder output)
    {
        if (Execute(statements, scope, output) != Flow.Normal)
        {
            throw new TemplateException("'break' and 'continue' belong inside a 'for' loop");
        }
    }

    private Flow Execute(IReadOnlyList<Statement> statements, Scope scope, StringBuilder output)
    {
        foreach (var statement in statements)
        {
            var flow = Execute(statement, scope, output);
            if (flow != Flow.Normal)
            {
                return flow;
            }

            if (output.Length > MaxOutputChars)
            {
                throw new TemplateException($"the rendered prompt grew past {MaxOutputChars} characters");
            }
        }

        return Flow.Normal;
    }

    private Flow Execute(Statement statement, Scope scope, StringBuilder output)
    {
        switch (statement)
        {
            case TextStatement text:
                output.Append(text.Text);
                return Flow.Normal;
            case OutputStatement print:
                output.Append(TemplateValues.ToText(Evaluate(print.Value, scope)));
                return Flow.Normal;
            case IfStatement branch:
                return Execute(TemplateValues.IsTrue(Evaluate(branch.Test, scope)) ? branch.Body : branch.Else, scope, output);
            case ForStatement loop:
                return For(loop, scope, output);
            case SetStatement set:
                Set(set, scope);
                return Flow.Normal;
            case SetBlockStatement block:
                var captured = new StringBuilder();
                Run(block.Body, scope, captured);
                scope.Set(block.Target, captured.ToString());
                return Flow.Normal;
            case MacroStatement macro:
                scope.Set(macro.Name, new Macro(macro, this, scope));
                return Flow.Normal;
            case BreakStatement:
                return Flow.Break;
            case ContinueStatement:
                return Flow.Continue;
            default:
                throw new TemplateException($"cannot run {statement.GetType().Name}");
        }
    }

    private Flow For(ForStatement loop, Scope scope, StringBuilder output)
    {
        var items = TemplateBuiltins.Iterate(Evaluate(loop.Items, scope)).ToList();
        if (loop.Filter is { } filter)
        {
            items = items.Where(item => TemplateValues.IsTrue(Evaluate(filter, Bind(loop.Targets, item, new Scope(scope))))).ToList();
        }

        if (items.Count == 0)
        {
            return Execute(loop.Else, scope, output);
        }

        for (var i = 0; i < items.Count; i++)
        {
            var body = Bind(loop.Targets, items[i], new Scope(scope));
            body.Set("loop", new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["index"] = (long)(i + 1),
                ["index0"] = (long)i,
                ["revindex"] = (long)(items.Count - i),
                ["revindex0"] = (long)(items.Count - i - 1),
                ["first"] = i == 0,
                ["last"] = i == items.Count - 1,
                ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : Undefined.Value,
                ["nextitem"] = i < items.Count - 1 ? items[i + 1] : Undefined.Value,
            });
            if (Execute(loop.Body, body, output) == Flow.Break)
            {
                break;
            }
        }

        return Flow.Normal;
    }

    private static Scope Bind(IReadOnlyList<string> targets, object? item, Scope scope)
    {
        if (targets.Count == 1)
        {
            scope.Set(targets[0], item);
            return scope;
        }

        var parts = item as List<object?> ?? throw new TemplateException($"cannot unpack {TemplateValues.TypeName(item)} into {targets.Count} names");
        if (parts.Count != targets.Count)
        {
            throw new TemplateException($"cannot unpack {parts.Count} values into {targets.Count} names");
        }

        for (var i = 0; i < targets.Count; i++)
        {
            scope.Set(targets[i], parts[i]);
        }

        return scope;
    }

    private void Set(SetStatement set, Scope scope)
    {
        var value = Evaluate(set.Value, scope);
        if (set.Attribute is { } attribute)
        {
            if (scope.Get(set.Targets[0]) is not Namespace space)
            {
                throw new TemplateException($"'{set.Targets[0]}.{attribute}' can be set only on a namespace()");
            }

            space[attribute] = value;
            return;
        }

        if (set.Targets.Count == 1)
        {
            scope.Set(set.Targets[0], value);
        }
        else
        {
            Bind(set.Targets, value, scope);
        }
    }

    public object? Evaluate(Expression expression, Scope scope)
    {
        if (++_steps > MaxSteps)
        {
            throw new TemplateException($"the template took more than {MaxSteps} steps to render");
        }

        switch (expression)
        {
            case LiteralExpression literal:
                return literal.Value;
            case NameExpression name:
                return scope.Get(name.Name) is Undefined && TemplateBuiltins.Global(name.Name) is { } global ? global : scope.Get(name.Name);
            case ListExpression list:
                return list.Items.Select(item => Evaluate(item, scope)).ToList();
            case DictExpression map:
                var dictionary = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (key, value) in map.Items)
                {
                    dictionary[TemplateValues.ToText(Evaluate(key, scope))] = Evaluate(value, scope);
                }

                return dictionary;
            case AttributeExpression attribute:
                return TemplateBuiltins.Attribute(Evaluate(attribute.Target, scope), attribute.Name);
            case ItemExpression item:
                return TemplateBuiltins.Item(Evaluate(item.Target, scope), Evaluate(item.Key, scope));
            case SliceExpression slice:
                return TemplateBuiltins.Slice(
                    Evaluate(slice.Target, scope), Optional(slice.Start, scope), Optional(slice.Stop, scope), Optional(slice.Step, scope));
            case CallExpression call:
                return Call(Evaluate(call.Callee, scope), call.Arguments.Select(a => Evaluate(a, scope)).ToList(), Keywords(call.Keywords, scope));
            case FilterExpression filter:
                return TemplateBuiltins.Filter(filter.Name, Evaluate(filter.Value, scope), filter.Arguments.Select(a => Evaluate(a, scope)).ToList(), Keywords(filter.Keywords, scope), this);
            case TestExpression test:
                return TemplateBuiltins.Test(test.Name, Evaluate(test.Value, scope), test.Arguments.Select(a => Evaluate(a, scope)).ToList()) != test.Negated;
            case UnaryExpression unary:
                var operand = Evaluate(unary.Operand, scope);
                return unary.Operator switch
                {
                    "not" => !TemplateValues.IsTrue(operand),
                    "-" => operand is long l ? -l : (object)-TemplateValues.ToDouble(operand),
                    _ => operand,
                };
            case BinaryExpression { Operator: "and" } and:
                var left = Evaluate(and.Left, scope);
                return TemplateValues.IsTrue(left) ? Evaluate(and.Right, scope) : left;
            case BinaryExpression { Operator: "or" } or:
                var first = Evaluate(or.Left, scope);
                return TemplateValues.IsTrue(first) ? first : Evaluate(or.Right, scope);
            case BinaryExpression binary:
                return TemplateBuiltins.Operate(binary.Operator, Evaluate(binary.Left, scope), Evaluate(binary.Right, scope));
            case ConditionalExpression conditional:
                return TemplateValues.IsTrue(Evaluate(conditional.Test, scope))
                    ? Evaluate(conditional.Then, scope)
                    : conditional.Otherwise is null ? Undefined.Value : Evaluate(conditional.Otherwise, scope);
            default:
                throw new TemplateException($"cannot evaluate {expression.GetType().Name}");
        }
    }

    public static object? Call(object? callee, IReadOnlyList<object?> arguments, IReadOnlyDictionary<string, object?> keywords) => callee switch
    {
        TemplateFunction function => function(arguments, keywords),
        Macro macro => macro.Call(arguments, keywords),
        _ => throw new TemplateException($"{TemplateValues.TypeName(callee)} is not callable"),
    };

    private object? Optional(Expression? expression, Scope scope) => expression is null ? null : Evaluate(expression, scope);

    private Dictionary<string, object?> Keywords(IReadOnlyList<(string Name, Expression Value)> keywords, Scope scope)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in keywords)
        {
            values[name] = Evaluate(value, scope);
        }

        return values;
    }
}
