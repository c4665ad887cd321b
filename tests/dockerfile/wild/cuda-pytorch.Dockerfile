ARG CUDA=12.1.1
FROM nvidia/cuda:${CUDA}-cudnn8-runtime-ubuntu22.04

ENV PYTHONUNBUFFERED=1

RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
    python3.10 \
    python3-pip \
    git \
    libgl1 \
    libglib2.0-0 \
    ffmpeg

RUN pip3 install torch torchvision torchaudio --index-url https://download.pytorch.org/whl/cu121

WORKDIR /workspace
COPY requirements.txt .
RUN pip3 install -r requirements.txt

COPY . .
CMD ["python3", "train.py", "--config", "configs/default.yaml"]
