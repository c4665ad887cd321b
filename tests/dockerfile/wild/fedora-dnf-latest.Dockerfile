FROM fedora:latest

ENV LANG=C.UTF-8

RUN dnf install -y \
      git \
      make \
      gcc-c++ \
      cmake \
      ninja-build \
      boost-devel \
    && dnf clean all

WORKDIR /build
COPY . .
RUN cmake -S . -B out -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build out

CMD ["/build/out/bin/app"]
