namespace Turbine.Llm.Templates;

/// <summary>A statement of a parsed template: what renders text or changes variables.</summary>
internal abstract record Statement;

internal sealed record TextStatement(string Text) : Statement;

internal sealed record OutputStatement(Expression Value) : Statement;

internal sealed record IfStatement(Expression Test, IReadOnlyList<Statement> Body, IReadOnlyList<Statement> Else) : Statement;

/// <summary><c>{% for a, b in items if test %}</c>; <see cref="Else"/> renders when nothing was iterated.</summary>
internal sealed record ForStatement(IReadOnlyList<string> Targets, Expression Items, Expression? Filter, IReadOnlyList<Statement> Body, IReadOnlyList<Statement> Else) : Statement;

/// <summary><c>{% set x = v %}</c>, <c>{% set a, b = v %}</c> or <c>{% set ns.x = v %}</c> (<see cref="Attribute"/> set).</summary>
internal sealed record SetStatement(IReadOnlyList<string> Targets, string? Attribute, Expression Value) : Statement;

/// <summary><c>{% set x %}...{% endset %}</c>: the body's text into a variable.</summary>
internal sealed record SetBlockStatement(string Target, IReadOnlyList<Statement> Body) : Statement;

internal sealed record MacroStatement(string Name, IReadOnlyList<(string Name, Expression? Default)> Parameters, IReadOnlyList<Statement> Body) : Statement;

internal sealed record BreakStatement : Statement;

internal sealed record ContinueStatement : Statement;

/// <summary>An expression of a template.</summary>
internal abstract record Expression;

internal sealed record LiteralExpression(object? Value) : Expression;

internal sealed record NameExpression(string Name) : Expression;

internal sealed record ListExpression(IReadOnlyList<Expression> Items) : Expression;

internal sealed record DictExpression(IReadOnlyList<(Expression Key, Expression Value)> Items) : Expression;

/// <summary><c>a.b</c>: a mapping's key, else a method of the value.</summary>
internal sealed record AttributeExpression(Expression Target, string Name) : Expression;

/// <summary><c>a[b]</c>.</summary>
internal sealed record ItemExpression(Expression Target, Expression Key) : Expression;

/// <summary><c>a[start:stop:step]</c>.</summary>
internal sealed record SliceExpression(Expression Target, Expression? Start, Expression? Stop, Expression? Step) : Expression;

internal sealed record CallExpression(Expression Callee, IReadOnlyList<Expression> Arguments, IReadOnlyList<(string Name, Expression Value)> Keywords) : Expression;

/// <summary><c>value | name(arguments)</c>.</summary>
internal sealed record FilterExpression(Expression Value, string Name, IReadOnlyList<Expression> Arguments, IReadOnlyList<(string Name, Expression Value)> Keywords) : Expression;

/// <summary><c>value is [not] name(arguments)</c>.</summary>
internal sealed record TestExpression(Expression Value, string Name, IReadOnlyList<Expression> Arguments, bool Negated) : Expression;

internal sealed record UnaryExpression(string Operator, Expression Operand) : Expression;

internal sealed record BinaryExpression(string Operator, Expression Left, Expression Right) : Expression;

/// <summary><c>then if test else otherwise</c> (no else: undefined).</summary>
internal sealed record ConditionalExpression(Expression Test, Expression Then, Expression? Otherwise) : Expression;
