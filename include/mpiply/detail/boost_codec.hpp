#pragma once
// The Boost.Serialization path of the codec, for user types with serialize(). The archive is
// written without its header (both ends are the same binary) into a blob framed by its length and
// a checksum. Boost's binary_iarchive trusts the counts inside an archive and resizes containers
// to whatever it reads, so a corrupt byte could allocate gigabytes: the checksum is verified
// before Boost sees the bytes.
#include <istream>
#include <ostream>
#include <streambuf>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>

#include <mpiply/detail/codec.hpp>

namespace mpiply::detail {

// A streambuf writing straight into a Writer, and one reading from a span: no string copies.
class WriterBuf : public std::streambuf {
 public:
  explicit WriterBuf(Writer& w) : w_(w) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    w_.raw(s, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      char ch = static_cast<char>(c);
      w_.raw(&ch, 1);
    }
    return c;
  }

 private:
  Writer& w_;
};

class SpanBuf : public std::streambuf {
 public:
  SpanBuf(const char* p, std::size_t n) {
    char* b = const_cast<char*>(p);
    setg(b, b, b + n);
  }
};

std::uint64_t blob_checksum(const char* p, std::size_t n) noexcept;
// Throws ValueDecodeError naming the problem when the blob's checksum does not match.
void verify_blob(const char* p, std::size_t n, std::uint64_t expected);

template <class T>
struct BoostCodec {
  static void encode(Writer& w, const T& v) {
    std::size_t at = w.pos();
    w.u64(0);
    w.u64(0);
    {
      WriterBuf buf(w);
      std::ostream os(&buf);
      boost::archive::binary_oarchive oa(os, boost::archive::no_header);
      oa << v;
    }
    std::size_t body = at + 2 * sizeof(std::uint64_t);
    w.patch<std::uint64_t>(at, w.pos() - body);
    w.patch<std::uint64_t>(at + sizeof(std::uint64_t),
                           blob_checksum(w.bytes().data() + body, w.pos() - body));
  }
  static T decode(Reader& r) {
    auto n = r.u64();
    auto sum = r.u64();
    const char* p = r.take(n);
    verify_blob(p, n, sum);
    SpanBuf buf(p, n);
    std::istream is(&buf);
    T v{};
    try {
      boost::archive::binary_iarchive ia(is, boost::archive::no_header);
      ia >> v;
    } catch (const std::exception& e) {
      throw ValueDecodeError(std::string("Boost.Serialization could not decode a value: ") + e.what());
    }
    return v;
  }
};

}  // namespace mpiply::detail
