#include "models/pickle_reader.h"

#include <cstring>
#include <unordered_map>

namespace seghub::models {
namespace {

using Kind = PyValue::Kind;

// Pickle opcodes (Python's Lib/pickle.py names), protocols 0-5.
enum Op : uint8_t {
  kMark = '(',
  kStop = '.',
  kPop = '0',
  kPopMark = '1',
  kDup = '2',
  kInt = 'I',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kLong = 'L',
  kBinInt2 = 'M',
  kNone = 'N',
  kPersId = 'P',
  kBinPersId = 'Q',
  kReduce = 'R',
  kBinString = 'T',
  kShortBinString = 'U',
  kBinUnicode = 'X',
  kAppend = 'a',
  kBuild = 'b',
  kGlobal = 'c',
  kDict = 'd',
  kEmptyDict = '}',
  kAppends = 'e',
  kGet = 'g',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kList = 'l',
  kEmptyList = ']',
  kPut = 'p',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kSetItem = 's',
  kTuple = 't',
  kEmptyTuple = ')',
  kSetItems = 'u',
  kBinFloat = 'G',
  kBinBytes = 'B',
  kShortBinBytes = 'C',
  kProto = 0x80,
  kNewObj = 0x81,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
  kLong4 = 0x8b,
  kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d,
  kBinBytes8 = 0x8e,
  kEmptySet = 0x8f,
  kAddItems = 0x90,
  kFrozenSet = 0x91,
  kNewObjEx = 0x92,
  kStackGlobal = 0x93,
  kMemoize = 0x94,
  kFrame = 0x95,
  kByteArray8 = 0x96,
};

// Thrown inside the parser only, turned into a Status by Unpickle(): keeps the opcode handlers
// short (every read would otherwise need its own early return).
struct PickleError {
  Status status;
};

[[noreturn]] void Fail(const std::string& message) {
  throw PickleError{InvalidArgument("corrupt pickle: " + message)};
}

PyValuePtr MakeInt(int64_t v, Kind kind = Kind::kInt) {
  PyValuePtr p = PyValue::Make(kind);
  p->int_value = v;
  return p;
}

PyValuePtr MakeString(std::string s, Kind kind = Kind::kString) {
  PyValuePtr p = PyValue::Make(kind);
  p->text = std::move(s);
  return p;
}

class Unpickler {
 public:
  Unpickler(std::string_view data, const PickleHooks& hooks) : data_(data), hooks_(hooks) {}

  PyValuePtr Run() {
    while (true) {
      const uint8_t op = Byte();
      if (op == kStop) break;
      if (!Number(op) && !Text(op) && !StackOp(op) && !Collection(op) && !Memo(op) && !Object(op)) {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02x", op);
        Fail(std::string("unsupported opcode ") + hex + " at byte " + std::to_string(pos_ - 1));
      }
    }
    if (stack_.size() != 1) Fail("stack holds " + std::to_string(stack_.size()) + " at STOP");
    return stack_.back();
  }

 private:
  // --- raw reads (little-endian) -------------------------------------------------------------
  std::string_view Take(uint64_t n) {
    if (n > data_.size() - pos_) Fail("truncated at byte " + std::to_string(pos_));
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  uint8_t Byte() { return static_cast<uint8_t>(Take(1)[0]); }
  uint64_t Unsigned(int bytes) {
    std::string_view b = Take(bytes);
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[i]);
    return v;
  }
  std::string Line() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) Fail("unterminated line");
    std::string out(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  int64_t LineInt() {
    std::string s = Line();
    if (!s.empty() && s.back() == 'L') s.pop_back();  // protocol-0 LONG suffix
    if (s == "00") return 0;                          // protocol-0 False / True
    if (s == "01") return 1;
    try {
      return std::stoll(s);
    } catch (const std::exception&) {
      Fail("bad integer literal");
    }
  }
  // LONG1/LONG4: little-endian two's complement of n bytes; only 64-bit values are modelled.
  PyValuePtr LongBytes(uint64_t n) {
    if (n > 8) {
      Take(n);
      return MakeString("<long>", Kind::kObject);
    }
    uint64_t v = n ? Unsigned(static_cast<int>(n)) : 0;
    if (n && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return MakeInt(static_cast<int64_t>(v));
  }

  // --- stack ---------------------------------------------------------------------------------
  void Push(PyValuePtr v) { stack_.push_back(std::move(v)); }
  PyValuePtr Pop() {
    if (stack_.size() <= MarkFloor()) Fail("stack underflow at byte " + std::to_string(pos_));
    PyValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  PyValuePtr& Top() {
    if (stack_.size() <= MarkFloor()) Fail("empty stack at byte " + std::to_string(pos_));
    return stack_.back();
  }
  size_t MarkFloor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Pops everything above the last MARK, and the mark.
  std::vector<PyValuePtr> PopMark() {
    if (marks_.empty()) Fail("no MARK at byte " + std::to_string(pos_));
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PyValuePtr> out(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return out;
  }
  PyValuePtr Sequence(Kind kind, std::vector<PyValuePtr> items) {
    PyValuePtr p = PyValue::Make(kind);
    p->items = std::move(items);
    return p;
  }
  std::vector<PyValuePtr> PopN(size_t n) {
    std::vector<PyValuePtr> out(n);
    for (size_t i = n; i-- > 0;) out[i] = Pop();
    return out;
  }

  bool Number(uint8_t op);
  bool Text(uint8_t op);
  bool StackOp(uint8_t op);
  bool Collection(uint8_t op);
  bool Memo(uint8_t op);
  bool Object(uint8_t op);
  void SetItems(PyValue* dict, const std::vector<PyValuePtr>& kv);
  void AppendItems(PyValue* list, const std::vector<PyValuePtr>& items);
  PyValuePtr Reduce(const PyValuePtr& callable, const PyValuePtr& args);

  std::string_view data_;
  size_t pos_ = 0;
  const PickleHooks& hooks_;
  std::vector<PyValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyValuePtr> memo_;
};

bool Unpickler::Number(uint8_t op) {
  switch (op) {
    case kNone:
      Push(PyValue::Make(Kind::kNone));
      return true;
    case kNewTrue:
      Push(MakeInt(1, Kind::kBool));
      return true;
    case kNewFalse:
      Push(MakeInt(0, Kind::kBool));
      return true;
    case kBinInt:
      Push(MakeInt(static_cast<int32_t>(Unsigned(4))));
      return true;
    case kBinInt1:
      Push(MakeInt(static_cast<int64_t>(Unsigned(1))));
      return true;
    case kBinInt2:
      Push(MakeInt(static_cast<int64_t>(Unsigned(2))));
      return true;
    case kInt:
    case kLong:
      Push(MakeInt(LineInt()));
      return true;
    case kLong1:
      Push(LongBytes(Byte()));
      return true;
    case kLong4:
      Push(LongBytes(static_cast<uint32_t>(Unsigned(4))));
      return true;
    case kBinFloat: {  // big-endian IEEE double
      std::string_view b = Take(8);
      uint64_t bits = 0;
      for (char c : b) bits = (bits << 8) | static_cast<uint8_t>(c);
      PyValuePtr p = PyValue::Make(Kind::kFloat);
      std::memcpy(&p->float_value, &bits, sizeof(bits));
      Push(p);
      return true;
    }
    default:
      return false;
  }
}

// Strings and bytes alike (the reader never needs to tell them apart), plus framing opcodes.
bool Unpickler::Text(uint8_t op) {
  switch (op) {
    case kProto:
      Byte();
      return true;
    case kFrame:
      Take(8);
      return true;  // framing is transparent to a whole-buffer reader
    case kBinUnicode:
    case kBinString:
    case kBinBytes:
      Push(MakeString(std::string(Take(Unsigned(4)))));
      return true;
    case kShortBinUnicode:
    case kShortBinString:
    case kShortBinBytes:
      Push(MakeString(std::string(Take(Byte()))));
      return true;
    case kBinUnicode8:
    case kBinBytes8:
    case kByteArray8:
      Push(MakeString(std::string(Take(Unsigned(8)))));
      return true;
    default:
      return false;
  }
}

bool Unpickler::StackOp(uint8_t op) {
  switch (op) {
    case kMark:
      marks_.push_back(stack_.size());
      return true;
    case kPopMark:
      PopMark();
      return true;
    case kPop:
      Pop();
      return true;
    case kDup:
      Push(Top());
      return true;
    case kEmptyDict:
      Push(PyValue::Make(Kind::kDict));
      return true;
    case kEmptyList:
      Push(PyValue::Make(Kind::kList));
      return true;
    case kEmptyTuple:
      Push(PyValue::Make(Kind::kTuple));
      return true;
    case kEmptySet:
      Push(PyValue::Make(Kind::kSet));
      return true;
    default:
      return false;
  }
}

bool Unpickler::Collection(uint8_t op) {
  switch (op) {
    case kTuple:
      Push(Sequence(Kind::kTuple, PopMark()));
      return true;
    case kList:
      Push(Sequence(Kind::kList, PopMark()));
      return true;
    case kFrozenSet:
      Push(Sequence(Kind::kSet, PopMark()));
      return true;
    case kTuple1:
    case kTuple2:
    case kTuple3:
      Push(Sequence(Kind::kTuple, PopN(op - kTuple1 + 1)));
      return true;
    case kDict: {
      PyValuePtr d = PyValue::Make(Kind::kDict);
      SetItems(d.get(), PopMark());
      Push(d);
      return true;
    }
    case kSetItem:
    case kSetItems: {
      std::vector<PyValuePtr> kv = op == kSetItem ? PopN(2) : PopMark();
      SetItems(Top().get(), kv);
      return true;
    }
    case kAppend:
    case kAppends:
    case kAddItems: {
      std::vector<PyValuePtr> v = op == kAppend ? PopN(1) : PopMark();
      AppendItems(Top().get(), v);
      return true;
    }
    default:
      return false;
  }
}

bool Unpickler::Memo(uint8_t op) {
  uint64_t key = 0;
  switch (op) {
    case kBinPut:
      key = Byte();
      break;
    case kLongBinPut:
      key = Unsigned(4);
      break;
    case kPut:
      key = static_cast<uint64_t>(LineInt());
      break;
    case kMemoize:
      key = memo_.size();
      break;
    case kBinGet:
    case kLongBinGet:
    case kGet: {
      key = op == kBinGet       ? Byte()
            : op == kLongBinGet ? Unsigned(4)
                                : static_cast<uint64_t>(LineInt());
      auto it = memo_.find(key);
      if (it == memo_.end()) Fail("memo key " + std::to_string(key) + " never stored");
      Push(it->second);
      return true;
    }
    default:
      return false;
  }
  memo_[key] = Top();
  return true;
}

bool Unpickler::Object(uint8_t op) {
  switch (op) {
    case kGlobal: {  // "module\nname\n"
      std::string module = Line();
      Push(MakeString(module + "." + Line(), Kind::kGlobal));
      return true;
    }
    case kStackGlobal: {
      std::vector<PyValuePtr> mn = PopN(2);
      if (!mn[0]->IsString() || !mn[1]->IsString()) Fail("STACK_GLOBAL needs two strings");
      Push(MakeString(mn[0]->text + "." + mn[1]->text, Kind::kGlobal));
      return true;
    }
    case kReduce: {
      std::vector<PyValuePtr> ca = PopN(2);
      Push(Reduce(ca[0], ca[1]));
      return true;
    }
    case kNewObj:
    case kNewObjEx: {              // an instance of a class: never modelled
      if (op == kNewObjEx) Pop();  // kwargs
      std::vector<PyValuePtr> ca = PopN(2);
      PyValuePtr obj = MakeString(ca[0]->text, Kind::kObject);
      obj->items = ca[1]->items;
      Push(obj);
      return true;
    }
    case kBuild:
      Pop();
      Top();
      return true;  // instance state (e.g. _metadata) is ignored
    case kBinPersId:
    case kPersId: {
      PyValuePtr pid = op == kBinPersId ? Pop() : MakeString(Line());
      if (!hooks_.persistent_load) Fail("persistent id without a loader");
      Result<PyValuePtr> v = hooks_.persistent_load(*pid);
      if (!v.ok()) throw PickleError{v.status()};
      Push(*v);
      return true;
    }
    default:
      return false;
  }
}

PyValuePtr Unpickler::Reduce(const PyValuePtr& callable, const PyValuePtr& args) {
  if (args->kind != Kind::kTuple) Fail("REDUCE arguments are not a tuple");
  if (callable->kind == Kind::kGlobal && hooks_.reduce) {
    auto r = hooks_.reduce(callable->text, args->items);
    if (!r.ok()) throw PickleError{r.status()};
    if (r->has_value()) return **r;
  }
  PyValuePtr obj = MakeString(callable->text, Kind::kObject);
  obj->items = args->items;
  return obj;
}

void Unpickler::SetItems(PyValue* dict, const std::vector<PyValuePtr>& kv) {
  if (kv.size() % 2) Fail("odd number of dict items");
  // Items set on an unmodelled object (e.g. a dict subclass) are dropped.
  if (dict->kind != Kind::kDict) return;
  for (size_t i = 0; i < kv.size(); i += 2) dict->entries.emplace_back(kv[i], kv[i + 1]);
}

void Unpickler::AppendItems(PyValue* list, const std::vector<PyValuePtr>& items) {
  if (list->kind != Kind::kList && list->kind != Kind::kSet) return;
  list->items.insert(list->items.end(), items.begin(), items.end());
}

}  // namespace

PyValuePtr PyValue::Make(Kind kind) {
  auto p = std::make_shared<PyValue>();
  p->kind = kind;
  return p;
}

PyValuePtr PyValue::Get(std::string_view key) const {
  if (kind != Kind::kDict) return nullptr;
  // Last write wins, as in Python.
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->first->IsString() && it->first->text == key) return it->second;
  }
  return nullptr;
}

Result<PyValuePtr> Unpickle(std::string_view data, const PickleHooks& hooks) {
  try {
    return Unpickler(data, hooks).Run();
  } catch (const PickleError& e) {
    return e.status;
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while unpickling");
  } catch (const std::exception& e) {
    return Internal(std::string("unpickling failed: ") + e.what());
  }
}

}  // namespace seghub::models
