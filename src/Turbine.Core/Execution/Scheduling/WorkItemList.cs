namespace Turbine.Core.Execution.Scheduling;

/// <summary>A doubly linked FIFO of work items that uses the items as nodes. Not thread-safe: its owner locks.</summary>
internal sealed class WorkItemList
{
    public WorkItem? First { get; private set; }

    private WorkItem? _last;

    public int Count { get; private set; }

    public void AddLast(WorkItem item)
    {
        item.List = this;
        item.Previous = _last;
        item.Next = null;
        if (_last is null)
        {
            First = item;
        }
        else
        {
            _last.Next = item;
        }

        _last = item;
        Count++;
    }

    public void Remove(WorkItem item)
    {
        if (item.Previous is null)
        {
            First = item.Next;
        }
        else
        {
            item.Previous.Next = item.Next;
        }

        if (item.Next is null)
        {
            _last = item.Previous;
        }
        else
        {
            item.Next.Previous = item.Previous;
        }

        item.List = null;
        item.Previous = null;
        item.Next = null;
        Count--;
    }
}
