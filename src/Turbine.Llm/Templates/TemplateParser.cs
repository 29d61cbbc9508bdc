namespace Turbine.Llm.Templates;

/// <summary>
/// Parses the template language chat templates are written in (a subset of Jinja: if, for with loop variables and
/// filters, set (also on a namespace, and as a block), macros, break and continue; expressions with Python's operators,
/// literals, attributes, subscripts and slices, calls, filters, tests and conditionals) into statements.
/// </summary>
internal sealed class TemplateParser
{
    private readonly List<TemplateToken> _tokens;
    private int _position;

    private TemplateParser(List<TemplateToken> tokens) => _tokens = tokens;

    public static IReadOnlyList<Statement> Parse(string template)
    {
        var parser = new TemplateParser(TemplateLexer.Tokenize(template));
        var (body, end) = parser.Block();
        return end is null ? body : throw new TemplateException($"'{{% {end} %}}' has no block to end");
    }

    /// <summary>Statements until a block tag that this level does not own; that tag's keyword (null at the end).</summary>
    private (List<Statement> Body, string? End) Block()
    {
        var body = new List<Statement>();
        while (_position < _tokens.Count)
        {
            var token = _tokens[_position++];
            switch (token.Kind)
            {
                case TokenKind.Text:
                    body.Add(new TextStatement(token.Text));
                    break;
                case TokenKind.OpenOutput:
                    body.Add(new OutputStatement(Expression()));
                    Expect(TokenKind.CloseOutput, "}}");
                    break;
                case TokenKind.OpenStatement:
                    var keyword = Name();
                    if (keyword is "elif" or "else")
                    {
                        return (body, keyword); // the owner reads the rest of the tag
                    }

                    if (keyword is "endif" or "endfor" or "endset" or "endmacro" or "endgeneration")
                    {
                        Expect(TokenKind.CloseStatement, "%}");
                        return (body, keyword);
                    }

                    if (Tag(keyword) is { } statement)
                    {
                        body.Add(statement);
                    }

                    break;
                default:
                    throw new TemplateException($"unexpected '{token.Text}'");
            }
        }

        return (body, null);
    }

    private Statement? Tag(string keyword)
    {
        switch (keyword)
        {
            case "if":
                return If();
            case "for":
                return For();
            case "set":
                return Set();
            case "macro":
                return Macro();
            case "break":
                Expect(TokenKind.CloseStatement, "%}");
                return new BreakStatement();
            case "continue":
                Expect(TokenKind.CloseStatement, "%}");
                return new ContinueStatement();
            case "generation":
                // Hugging Face's marker of assistant text for training masks: its body renders as it is.
                Expect(TokenKind.CloseStatement, "%}");
                var (body, end) = Block();
                Close(end, "endgeneration", "generation");
                return new IfStatement(new LiteralExpression(true), body, []);
            default:
                throw new TemplateException($"the tag '{{% {keyword} %}}' is not supported");
        }
    }

    private IfStatement If()
    {
        var test = Expression();
        Expect(TokenKind.CloseStatement, "%}");
        var (body, end) = Block();
        switch (end)
        {
            case "elif":
                return new IfStatement(test, body, [If()]);
            case "else":
                Expect(TokenKind.CloseStatement, "%}");
                var (otherwise, last) = Block();
                Close(last, "endif", "if");
                return new IfStatement(test, body, otherwise);
            default:
                Close(end, "endif", "if");
                return new IfStatement(test, body, []);
        }
    }

    private ForStatement For()
    {
        var targets = new List<string> { Name() };
        while (Accept(","))
        {
            targets.Add(Name());
        }

        if (Name() != "in")
        {
            throw new TemplateException("'for' needs 'in'");
        }

        var items = Conditional(allowCondition: false);
        Expression? filter = null;
        if (Peek(TokenKind.Name, "if"))
        {
            _position++;
            filter = Expression();
        }

        Expect(TokenKind.CloseStatement, "%}");
        var (body, end) = Block();
        List<Statement> otherwise = [];
        if (end == "else")
        {
            Expect(TokenKind.CloseStatement, "%}");
            (otherwise, end) = Block();
        }

        Close(end, "endfor", "for");
        return new ForStatement(targets, items, filter, body, otherwise);
    }

    private Statement Set()
    {
        var targets = new List<string> { Name() };
        string? attribute = null;
        if (Accept("."))
        {
            attribute = Name();
        }

        while (Accept(","))
        {
            targets.Add(Name());
        }

        if (Accept("="))
        {
            var value = Expression();
            Expect(TokenKind.CloseStatement, "%}");
            return new SetStatement(targets, attribute, value);
        }

        Expect(TokenKind.CloseStatement, "%}");
        var (body, end) = Block();
        Close(end, "endset", "set");
        return new SetBlockStatement(targets[0], body);
    }

    private MacroStatement Macro()
    {
        var name = Name();
        var parameters = new List<(string, Expression?)>();
        Expect(TokenKind.Symbol, "(");
        while (!Accept(")"))
        {
            var parameter = Name();
            parameters.Add((parameter, Accept("=") ? Expression() : null));
            Accept(",");
        }

        Expect(TokenKind.CloseStatement, "%}");
        var (body, end) = Block();
        Close(end, "endmacro", "macro");
        return new MacroStatement(name, parameters, body);
    }

    private Expression Expression() => Conditional(allowCondition: true);

    private Expression Conditional(bool allowCondition)
    {
        var value = Or();
        if (allowCondition && Peek(TokenKind.Name, "if"))
        {
            _position++;
            var test = Or();
            Expression? otherwise = null;
            if (Peek(TokenKind.Name, "else"))
            {
                _position++;
                otherwise = Conditional(allowCondition: true);
            }

            return new ConditionalExpression(test, value, otherwise);
        }

        return value;
    }

    private Expression Or()
    {
        var left = And();
        while (Peek(TokenKind.Name, "or"))
        {
            _position++;
            left = new BinaryExpression("or", left, And());
        }

        return left;
    }

    private Expression And()
    {
        var left = Not();
        while (Peek(TokenKind.Name, "and"))
        {
            _position++;
            left = new BinaryExpression("and", left, Not());
        }

        return left;
    }

    private Expression Not()
    {
        if (Peek(TokenKind.Name, "not"))
        {
            _position++;
            return new UnaryExpression("not", Not());
        }

        return Compare();
    }

    private Expression Compare()
    {
        var left = Additive();
        while (true)
        {
            if (PeekSymbol("==", "!=", "<", ">", "<=", ">=") is { } op)
            {
                _position++;
                left = new BinaryExpression(op, left, Additive());
            }
            else if (Peek(TokenKind.Name, "in"))
            {
                _position++;
                left = new BinaryExpression("in", left, Additive());
            }
            else if (Peek(TokenKind.Name, "not") && _position + 1 < _tokens.Count && _tokens[_position + 1] is { Kind: TokenKind.Name, Text: "in" })
            {
                _position += 2;
                left = new BinaryExpression("not in", left, Additive());
            }
            else
            {
                return left;
            }
        }
    }

    private Expression Additive()
    {
        var left = Concat();
        while (PeekSymbol("+", "-") is { } op)
        {
            _position++;
            left = new BinaryExpression(op, left, Concat());
        }

        return left;
    }

    private Expression Concat()
    {
        var left = Multiplicative();
        while (Accept("~"))
        {
            left = new BinaryExpression("~", left, Multiplicative());
        }

        return left;
    }

    private Expression Multiplicative()
    {
        var left = Power();
        while (PeekSymbol("*", "/", "//", "%") is { } op)
        {
            _position++;
            left = new BinaryExpression(op, left, Power());
        }

        return left;
    }

    private Expression Power()
    {
        var left = Unary();
        while (Accept("**"))
        {
            left = new BinaryExpression("**", left, Unary());
        }

        return left;
    }

    /// <summary>A sign binds tighter than a filter: <c>-x | abs</c> is <c>(-x) | abs</c>, as Jinja reads it.</summary>
    private Expression Unary(bool withFilters = true)
    {
        Expression value;
        if (PeekSymbol("-", "+") is { } sign)
        {
            _position++;
            value = new UnaryExpression(sign, Unary(withFilters: false));
        }
        else
        {
            value = Postfix(Primary());
        }

        return withFilters ? FilterOrTest(value) : value;
    }

    /// <summary><c>| filter</c> and <c>is test</c>, which bind tighter than any operator.</summary>
    private Expression FilterOrTest(Expression value)
    {
        while (true)
        {
            if (Accept("|"))
            {
                var name = Name();
                var (arguments, keywords) = Peek(TokenKind.Symbol, "(") ? Arguments() : ([], []);
                value = Postfix(new FilterExpression(value, name, arguments, keywords));
            }
            else if (Peek(TokenKind.Name, "is"))
            {
                _position++;
                var negated = Peek(TokenKind.Name, "not");
                if (negated)
                {
                    _position++;
                }

                var name = Name();
                List<Expression> arguments = [];
                if (Peek(TokenKind.Symbol, "("))
                {
                    arguments = Arguments().Positional;
                }
                else if (_position < _tokens.Count && _tokens[_position].Kind is TokenKind.String or TokenKind.Number)
                {
                    arguments = [Primary()]; // "is divisibleby 3", "is equalto 'x'"
                }

                value = new TestExpression(value, name, arguments, negated);
            }
            else
            {
                return value;
            }
        }
    }

    private Expression Postfix(Expression value)
    {
        while (true)
        {
            if (Accept("."))
            {
                value = new AttributeExpression(value, Name());
            }
            else if (Accept("["))
            {
                value = Subscript(value);
            }
            else if (Peek(TokenKind.Symbol, "("))
            {
                var (arguments, keywords) = Arguments();
                value = new CallExpression(value, arguments, keywords);
            }
            else
            {
                return value;
            }
        }
    }

    private Expression Subscript(Expression target)
    {
        Expression? start = Peek(TokenKind.Symbol, ":") ? null : Expression();
        if (Accept("]"))
        {
            return new ItemExpression(target, start!);
        }

        Expect(TokenKind.Symbol, ":");
        Expression? stop = PeekSymbol(":", "]") is null ? Expression() : null;
        Expression? step = null;
        if (Accept(":") && !Peek(TokenKind.Symbol, "]"))
        {
            step = Expression();
        }

        Expect(TokenKind.Symbol, "]");
        return new SliceExpression(target, start, stop, step);
    }

    private (List<Expression> Positional, List<(string, Expression)> Keywords) Arguments()
    {
        Expect(TokenKind.Symbol, "(");
        var positional = new List<Expression>();
        var keywords = new List<(string, Expression)>();
        while (!Accept(")"))
        {
            if (_position + 1 < _tokens.Count && _tokens[_position].Kind == TokenKind.Name && _tokens[_position + 1] is { Kind: TokenKind.Symbol, Text: "=" })
            {
                var name = Name();
                _position++;
                keywords.Add((name, Expression()));
            }
            else
            {
                positional.Add(Expression());
            }

            if (!Accept(","))
            {
                Expect(TokenKind.Symbol, ")");
                break;
            }
        }

        return (positional, keywords);
    }

    private Expression Primary()
    {
        if (_position >= _tokens.Count)
        {
            throw new TemplateException("an expression ends too soon");
        }

        var token = _tokens[_position++];
        switch (token.Kind)
        {
            case TokenKind.String:
                var text = (string)token.Value!;
                while (Peek(TokenKind.String))
                {
                    text += (string)_tokens[_position++].Value!; // adjacent literals join, as in Python
                }

                return new LiteralExpression(text);
            case TokenKind.Number:
                return new LiteralExpression(token.Value);
            case TokenKind.Name:
                return token.Text switch
                {
                    "true" or "True" => new LiteralExpression(true),
                    "false" or "False" => new LiteralExpression(false),
                    "none" or "None" => new LiteralExpression(null),
                    _ => new NameExpression(token.Text),
                };
            case TokenKind.Symbol when token.Text == "(":
                var first = Expression();
                if (!Accept(","))
                {
                    Expect(TokenKind.Symbol, ")");
                    return first;
                }

                var tuple = new List<Expression> { first };
                while (!Accept(")"))
                {
                    tuple.Add(Expression());
                    Accept(",");
                }

                return new ListExpression(tuple);
            case TokenKind.Symbol when token.Text == "[":
                var items = new List<Expression>();
                while (!Accept("]"))
                {
                    items.Add(Expression());
                    Accept(",");
                }

                return new ListExpression(items);
            case TokenKind.Symbol when token.Text == "{":
                var pairs = new List<(Expression, Expression)>();
                while (!Accept("}"))
                {
                    var key = Expression();
                    Expect(TokenKind.Symbol, ":");
                    pairs.Add((key, Expression()));
                    Accept(",");
                }

                return new DictExpression(pairs);
            default:
                throw new TemplateException($"unexpected '{token.Text}' in an expression");
        }
    }

    private string Name()
    {
        if (_position < _tokens.Count && _tokens[_position].Kind == TokenKind.Name)
        {
            return _tokens[_position++].Text;
        }

        throw new TemplateException($"expected a name, found '{(_position < _tokens.Count ? _tokens[_position].Text : "the end")}'");
    }

    private void Expect(TokenKind kind, string text)
    {
        if (!Peek(kind, text))
        {
            throw new TemplateException($"expected '{text}', found '{(_position < _tokens.Count ? _tokens[_position].Text : "the end")}'");
        }

        _position++;
    }

    private static void Close(string? end, string expected, string opened)
    {
        if (end != expected)
        {
            throw new TemplateException($"'{{% {opened} %}}' is not closed by '{{% {expected} %}}' (found {(end is null ? "the end" : $"'{end}'")})");
        }
    }

    private bool Accept(string symbol)
    {
        if (Peek(TokenKind.Symbol, symbol))
        {
            _position++;
            return true;
        }

        return false;
    }

    private bool Peek(TokenKind kind, string? text = null) =>
        _position < _tokens.Count && _tokens[_position].Kind == kind && (text is null || _tokens[_position].Text == text);

    private string? PeekSymbol(params string[] symbols) =>
        _position < _tokens.Count && _tokens[_position].Kind == TokenKind.Symbol && symbols.Contains(_tokens[_position].Text) ? _tokens[_position].Text : null;
}
